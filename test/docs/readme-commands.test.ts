import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { listen } from '../helpers/server.js'

/*
 * The README's shell examples, run the way a newcomer types them: extracted from its ```sh blocks,
 * run by bash against a real server on a real port (the README's port 3000 replaced by the test
 * server's), twice, so an example that cannot be run again (curl -OJ on an existing file) fails.
 * curl is required: without it this test fails and says so, rather than passing silently.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const README = await readFile(join(ROOT, 'README.md'), 'utf8')

/** One shell command of the README: its line, its text, and the exit status a comment announces. */
export interface ReadmeCommand { line: number, text: string, status: number }

/** Whether a command's text so far ends outside quotes and without a continuation backslash. */
function complete (text: string): boolean {
  let quote: '"' | '\'' | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote === '\'') { if (c === '\'') quote = undefined; continue }
    if (c === '\\') { i++; continue }
    if (quote === undefined && c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      // A comment, to the end of its line (its apostrophes are not quotes).
      const end = text.indexOf('\n', i)
      if (end === -1) return true
      i = end
      continue
    }
    if (quote === '"') { if (c === '"') quote = undefined; continue }
    if (c === '"' || c === '\'') quote = c
  }
  return quote === undefined && !/\\\n?$/.test(text)
}

/** Every command of the README's ```sh blocks; `# (exit status N ...)` below one sets its status. */
export function readmeCommands (markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = []
  let inBlock = false
  let current: ReadmeCommand | undefined
  markdown.split('\n').forEach((line, index) => {
    if (!inBlock) { inBlock = line === '```sh'; return }
    if (line === '```') { inBlock = false; return }
    if (current !== undefined) {
      current.text += `\n${line}`
      if (complete(current.text)) current = undefined
      return
    }
    const status = /^# \(exit status (\d+)/.exec(line)
    const last = commands[commands.length - 1]
    if (status !== null && last !== undefined) last.status = Number(status[1])
    if (line.trim() === '' || line.startsWith('#')) return
    const command = { line: index + 1, text: line, status: 0 }
    commands.push(command)
    if (!complete(line)) current = command
  })
  return commands
}

/** Commands this test does not run, and why; any other README command must be runnable here. */
const NOT_RUN: Array<[RegExp, string]> = [
  [/^npm (ci|test)\b/, 'installs or tests the checkout itself'],
  [/^(docker|KILN_PROJECTS=\S+ docker) /, 'no Docker engine here (test/deploy/ checks the files)'],
  [/^(kubectl|kustomize) /, 'no Kubernetes cluster here (test/deploy/kubernetes.test.ts checks the manifests)'],
  [/\/path\/to\//, 'a placeholder path for the reader\'s own projects']
]
const runnable = (command: ReadmeCommand): boolean => !NOT_RUN.some(([pattern]) => pattern.test(command.text))

interface Run { status: number | null, stdout: string, stderr: string }

function bash (script: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    // pipefail: `curl ... | sed -n 4p` must fail when curl does.
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

describe('readmeCommands', () => {
  it('joins continued lines and multi-line quoted bodies, and reads the announced exit status', () => {
    const md = '```sh\n# a comment\nnpm run cli -- list  # its JSON\n# isn\'t code\ncurl -d \'{\n  "a": 1\n}\' \\\n  -o x\nnpm run cli -- validate\n# (exit status 1: errors)\n```\n```sh\nls\n```\n'
    expect(readmeCommands(md)).toEqual([
      { line: 3, text: 'npm run cli -- list  # its JSON', status: 0 },
      { line: 5, text: 'curl -d \'{\n  "a": 1\n}\' \\\n  -o x', status: 0 },
      { line: 9, text: 'npm run cli -- validate', status: 1 },
      { line: 13, text: 'ls', status: 0 }
    ])
  })
})

describe('the README\'s shell examples', () => {
  const commands = readmeCommands(README)
  let server: Awaited<ReturnType<typeof listen>>
  let dir: string

  beforeAll(async () => {
    const curl = await bash('curl --version', process.env).catch((err: unknown) => ({ status: null, stdout: '', stderr: String(err) }))
    if (curl.status !== 0) {
      throw new Error('curl is not installed: the README examples are curl commands and this test runs them (apt-get install -y curl; .ci/run does)')
    }
    // What `npm start` serves: the example project.
    server = await listen({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    dir = await mkdtemp(join(tmpdir(), 'kiln-export-readme-'))
  })
  afterAll(async () => {
    await server?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('are all runnable here, except the few listed with a reason', () => {
    expect(commands.filter(runnable).length).toBeGreaterThanOrEqual(8)
    // A new kind of command must be run here or be listed in NOT_RUN.
    expect(commands.filter(runnable).every((c) => /^(curl|npm run cli --) /.test(c.text))).toBe(true)
  })

  it('use curl --fail-with-body, so a refusal is loud', () => {
    for (const c of commands.filter((c) => c.text.startsWith('curl '))) expect(c.text, `README line ${c.line}`).toContain('--fail-with-body')
  })

  it.each(commands.filter(runnable).map((c) => [c.line, c] as const))('line %i runs twice with its documented exit status', async (_, command) => {
    const script = command.text
      .replaceAll('127.0.0.1:3000', new URL(server.origin).host)
      .replaceAll('<format>', 'openai_chat_jsonl')
    const env = { ...process.env, TMPDIR: dir, NO_COLOR: '1' }
    for (const attempt of [1, 2]) {
      const run = await bash(script, env)
      const context = `README line ${command.line}, run ${attempt}:\n${command.text}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`
      expect(run.status, context).toBe(command.status)
      expect(run.stderr, context).not.toMatch(/curl: \(\d+\)/)
      if (command.text.startsWith('curl ')) expect(run.stdout.length, context).toBeGreaterThan(0)
    }
  }, 60_000)
})
