import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { startServer } from '../helpers/server.js'
import { runCli } from './cli-process.js'

// Each test starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

const EXPORT = ['export', '--project', 'examples/kiln-project', '--dataset', '150621256807', '--split', 'train', '--format', 'openai_chat_jsonl']
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-cli-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

describe.concurrent('kiln-export --help', () => {
  it('describes every command on stdout and exits 0', async () => {
    const result = await runCli(['--help'])
    expect(result.code).toBe(0)
    const text = result.stdout.toString('utf8')
    expect(text).toMatch(/^Usage: kiln-export <command> \[options\]\n/)
    for (const command of ['export', 'list', 'serve', 'validate']) expect(text).toContain(`\n  ${command} `)
    expect(result.stderr).toBe('')
  })

  for (const command of ['export', 'list', 'serve', 'validate']) {
    it(`shows the options of ${command} with \`${command} --help\` and exits 0`, async () => {
      const result = await runCli([command, '--help'])
      expect(result.code).toBe(0)
      expect(result.stdout.toString('utf8')).toMatch(new RegExp(`^Usage: kiln-export ${command}\\b`))
      expect(result.stderr).toBe('')
    })
  }

  it('shows a command\'s help with `help <command>` too', async () => {
    const result = await runCli(['help', 'export'])
    expect(result.code).toBe(0)
    const text = result.stdout.toString('utf8')
    expect(text).toMatch(/^Usage: kiln-export export /)
    for (const option of ['--project', '--dataset', '--split', '--format', '--strategy', '--system-message-file', '--thinking-instructions', '-o, --output']) {
      expect(text).toContain(option)
    }
  })

  it('prints the package version with --version', async () => {
    const result = await runCli(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout.toString('utf8')).toBe(`${PACKAGE_VERSION}\n`)
  })
})

describe.concurrent('usage errors exit 2 with a pointer to --help', () => {
  const cases: Array<{ name: string, args: string[], message: string }> = [
    { name: 'no command', args: [], message: 'Usage: kiln-export <command>' },
    { name: 'an unknown command', args: ['frobnicate'], message: 'kiln-export: unknown command \'frobnicate\'\n' },
    { name: 'an unknown option', args: [...EXPORT, '--system-message', '', '--colour'], message: 'kiln-export: Unknown option \'--colour\'\n' },
    { name: 'a missing required option', args: ['export', '--project', 'examples/kiln-project'], message: 'kiln-export: missing --dataset\n' },
    { name: 'a missing system message', args: EXPORT, message: 'kiln-export: missing --system-message' },
    { name: 'an option without its value', args: [...EXPORT, '--system-message'], message: 'kiln-export: Option \'--system-message <value>\' argument missing\n' },
    { name: 'both system message options', args: [...EXPORT, '--system-message', 'a', '--system-message-file', 'b'], message: 'give either --system-message or --system-message-file, not both' },
    { name: 'an unreadable system message file', args: [...EXPORT, '--system-message-file', '/nonexistent/system.txt'], message: 'cannot read --system-message-file /nonexistent/system.txt (ENOENT)' },
    { name: 'an unknown data strategy', args: [...EXPORT, '--system-message', '', '--strategy', 'final'], message: '--strategy must be one of: final_only, final_and_intermediate' },
    { name: 'a project folder that does not exist', args: ['list', '--project', '/nonexistent/kiln'], message: 'kiln-export: --project is not a readable folder: /nonexistent/kiln\n' },
    { name: 'an output folder that does not exist', args: [...EXPORT, '--system-message', '', '-o', '/nonexistent/out.jsonl'], message: '--output: folder /nonexistent does not exist' },
    { name: 'an invalid port', args: ['serve', '--port', 'http'], message: '--port must be an integer from 0 to 65535' },
    { name: 'a stray positional argument', args: ['list', '--project', 'examples/kiln-project', 'extra'], message: 'kiln-export: Unexpected argument \'extra\'' },
    { name: 'validate without its required options', args: ['validate'], message: '--project' },
    { name: 'an unreadable tools file', args: [...EXPORT, '--system-message', '', '--tools', '/nonexistent/tools.json'], message: 'cannot read --tools /nonexistent/tools.json (ENOENT)' },
    { name: 'a tools file that is not a list of tool definitions', args: [...EXPORT, '--system-message', '', '--tools', 'package.json'], message: '--tools package.json must hold a JSON array of OpenAI tool definitions' }
  ]
  for (const { name, args, message } of cases) {
    it(`for ${name}`, async () => {
      const result = await runCli(args)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(message)
      expect(result.stdout.length).toBe(0)
    })
  }

  it('also for invalid UTF-8 in the system message file', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'system.txt'), Buffer.from([0x68, 0xff, 0x69]))
    const result = await runCli([...EXPORT, '--system-message-file', join(dir, 'system.txt'), '-o', join(dir, 'out.jsonl')])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('is not valid UTF-8')
    expect(await readdir(dir)).toEqual(['system.txt'])
  })
})

describe('kiln-export list', () => {
  it('prints a table of the dataset splits with their split sizes', async () => {
    const result = await runCli(['list', '--project', 'examples/kiln-project'])
    expect(result.code).toBe(0)
    expect(result.stdout.toString('utf8')).toBe(
      'DATASET ID    NAME      PROJECT   TASK            OUTPUT  SPLITS (RUNS)\n' +
      '150621256807  Jokes v1  Joke Lab  Joke Generator  json    train (6), test (2)\n')
  })

  it('prints with --json exactly what GET /datasets answers', async () => {
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const [result, response] = await Promise.all([
      runCli(['list', '--project', EXAMPLE_PROJECT_DIR, '--json']),
      client.request({ method: 'GET', path: '/datasets' })
    ])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout.toString('utf8'))).toEqual(await response.body.json())
  })

  it('names the problems of the projects on stderr (here an id in two places), and export refuses that id with its code', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeSplit('900000000001', { train: ['1'] })
    await project.writeSplit('900000000001', { train: ['1'] }, 'Copy')
    const listed = await runCli(['list', '--project', project.root])
    expect(listed.code).toBe(0)
    expect(listed.stdout.toString('utf8').split('\n').filter((line) => line.startsWith('900000000001'))).toHaveLength(2)
    expect(listed.stderr).toMatch(/^kiln-export: Dataset split 900000000001 is in 2 places under the mounted folder: .*Copy.* \(KEX_DATASET_AMBIGUOUS\)\n$/)
    const exported = await runCli(['export', '--project', project.root, '--dataset', '900000000001', '--split', 'train', '--format', 'openai_chat_jsonl', '--system-message', ''])
    expect(exported.code).toBe(1)
    expect(exported.stdout.length).toBe(0)
    expect(exported.stderr).toMatch(/^kiln-export: Dataset split 900000000001 is in 2 places.*\n {2}code: KEX_DATASET_AMBIGUOUS\n$/)
  })

  it('says so on stderr, and exits 0, when a folder holds no dataset split', async () => {
    const dir = await tempDir()
    const result = await runCli(['list', '--project', dir])
    expect(result.code).toBe(0)
    expect(result.stdout.length).toBe(0)
    expect(result.stderr).toBe(`kiln-export: no dataset splits found under ${dir}\n`)
  })
})
