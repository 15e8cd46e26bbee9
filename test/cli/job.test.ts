import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_PROJECT_DIR, loadConfig } from '../../src/config.js'
import { openExportJobs } from '../../src/jobs/index.js'
import { LocalResultStore } from '../../src/jobs/store/local-store.js'
import { MOUNTED_EXAMPLE } from '../../src/http/schemas/export-request.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { EXIT_DATA_ERROR, EXIT_USAGE } from '../../src/cli/io.js'
import { EXIT_INTERRUPTED } from '../../src/cli/export-command.js'
import { requestJson, slowStore, tempExportsDir, waitForJob } from '../helpers/jobs.js'
import { postJson, startServer } from '../helpers/server.js'
import { runCli, startCli } from './cli-process.js'

/*
 * `kiln-export job` as a real process against a real server on a real port (the in-process
 * engine, results in a temp EXPORTS_DIR).
 */

const DATASET = '150621256807'
const catalog = new KilnProjects(EXAMPLE_PROJECT_DIR)

/** The CLI options of MOUNTED_EXAMPLE (the example project's train split, with chain of thought). */
const EXAMPLE_ARGS = [
  '--dataset', DATASET,
  '--split', MOUNTED_EXAMPLE.split_name,
  '--format', MOUNTED_EXAMPLE.format,
  '--strategy', MOUNTED_EXAMPLE.data_strategy,
  '--system-message', MOUNTED_EXAMPLE.system_message,
  '--thinking-instructions', MOUNTED_EXAMPLE.thinking_instructions
]

async function server (options: { slowMs?: number, apiToken?: string } = {}) {
  const exportsDir = await tempExportsDir()
  const config = { ...loadConfig({}), exportsDir, ...(options.apiToken === undefined ? {} : { apiToken: options.apiToken }) }
  const store = options.slowMs === undefined ? undefined : slowStore(new LocalResultStore(exportsDir), options.slowMs)
  const jobs = await openExportJobs(config, { catalog, store, tuning: { chunkBytes: 256 } })
  return await startServer(config, { catalog, jobs, exportTuning: { chunkBytes: 256 } })
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-cli-job-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A port nobody listens on (taken, then freed). */
async function closedPort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  await new Promise<void>((resolve) => probe.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('kiln-export job', () => {
  it('runs the job, downloads the file (the sync export\'s bytes) and prints lines, SHA-256 and the path', async () => {
    const { origin, client } = await server()
    const sync = await postJson(client, `/datasets/${DATASET}/export`, MOUNTED_EXAMPLE)
    expect(sync.status).toBe(200)
    const dir = await tempDir()
    const out = join(dir, 'train.jsonl')

    const result = await runCli(['job', '--server', origin, ...EXAMPLE_ARGS, '-o', out, '--interval', '0.05'])
    expect(result.code, result.stderr).toBe(0)
    const bytes = await readFile(out)
    expect(bytes.toString('utf8')).toBe(sync.text)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const stdout = result.stdout.toString('utf8')
    expect(stdout).toMatch(/^job: ex_[0-9a-f]{32}$/m)
    expect(stdout).toContain('lines: 6\n')
    expect(stdout).toContain(`sha256: ${sha256}\n`)
    expect(stdout).toContain(`file: ${out}\n`)
    expect(await stat(`${out}.partial`).then(() => true, () => false)).toBe(false)
    // Not a terminal: no progress redraws, one line naming the job.
    expect(result.stderr).not.toContain('\r')
    expect(result.stderr).toMatch(/^kiln-export: job ex_[0-9a-f]{32} \w+ on http:\/\/127\.0\.0\.1:\d+\n$/)

    // --no-download (the server from KILN_EXPORT_URL): the same job, its file's URL.
    const again = await runCli(['job', ...EXAMPLE_ARGS, '--no-download'], { env: { KILN_EXPORT_URL: origin } })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout.toString('utf8')).toContain(`sha256: ${sha256}\n`)
    expect(again.stdout.toString('utf8')).toMatch(new RegExp(`^file: ${origin}/exports/ex_[0-9a-f]{32}/file$`, 'm'))
  })

  it('sends --token (or KILN_EXPORT_TOKEN) as the bearer token; without it, the 401 is a usage error', async () => {
    const { origin } = await server({ apiToken: 'sesame-sesame-sesame' })
    const dir = await tempDir()
    const denied = await runCli(['job', '--server', origin, ...EXAMPLE_ARGS, '--no-download'])
    expect(denied.code).toBe(EXIT_USAGE)
    expect(denied.stderr).toContain('--token')
    const ok = await runCli(['job', '--server', origin, ...EXAMPLE_ARGS, '-o', join(dir, 'a.jsonl')], { env: { KILN_EXPORT_TOKEN: 'sesame-sesame-sesame' } })
    expect(ok.code, ok.stderr).toBe(0)
  })

  it('prints a failed job\'s error (message, code, run ids) and exits with the data-error code', async () => {
    const { origin, client } = await server()
    const dir = await tempDir()
    const out = join(dir, 'train.jsonl')
    const { thinking_instructions: _, ...withoutThinking } = MOUNTED_EXAMPLE
    const sync = await postJson(client, `/datasets/${DATASET}/export`, withoutThinking)
    const refused = sync.json() as { code: string, run_ids: string[] }
    expect(refused.code).toBe('KEX_THINKING_INSTRUCTIONS_REQUIRED')
    // final_and_intermediate without thinking instructions: the example runs have thinking data.
    const args = EXAMPLE_ARGS.slice(0, -2)
    const result = await runCli(['job', '--server', origin, ...args, '-o', out, '--interval', '0.05'])
    expect(result.code).toBe(EXIT_DATA_ERROR)
    expect(result.stderr).toMatch(/job ex_[0-9a-f]{32} failed/)
    expect(result.stderr).toContain('  code: KEX_THINKING_INSTRUCTIONS_REQUIRED\n')
    expect(result.stderr).toContain(`  run ids (${refused.run_ids.length}): ${refused.run_ids.join(', ')}\n`)
    expect(await stat(out).then(() => true, () => false)).toBe(false)
  })

  it('says in one line that a wrong --server cannot be reached', async () => {
    const port = await closedPort()
    const dir = await tempDir()
    const result = await runCli(['job', '--server', `http://127.0.0.1:${port}`, ...EXAMPLE_ARGS, '-o', join(dir, 'x.jsonl')])
    expect(result.code).toBe(EXIT_DATA_ERROR)
    expect(result.stderr).toBe(`kiln-export: cannot reach the kiln-export server at http://127.0.0.1:${port} (ECONNREFUSED)\n`)
  })

  it('refuses missing --server, --dataset or --output, and a --server that is no URL, as usage errors', async () => {
    const dir = await tempDir()
    const out = join(dir, 'x.jsonl')
    const noServer = await runCli(['job', ...EXAMPLE_ARGS, '-o', out])
    expect(noServer.code).toBe(EXIT_USAGE)
    expect(noServer.stderr).toMatch(/^kiln-export: missing --server \(or KILN_EXPORT_URL\)/)
    expect(noServer.stderr).toContain('kiln-export job --help')

    const noDataset = await runCli(['job', '--server', 'http://127.0.0.1:1', ...EXAMPLE_ARGS.slice(2), '-o', out])
    expect(noDataset.code).toBe(EXIT_USAGE)
    expect(noDataset.stderr).toMatch(/^kiln-export: missing --dataset\n/)

    const noOutput = await runCli(['job', '--server', 'http://127.0.0.1:1', ...EXAMPLE_ARGS])
    expect(noOutput.code).toBe(EXIT_USAGE)
    expect(noOutput.stderr).toMatch(/missing -o\/--output FILE \(or --no-download\)/)

    const notUrl = await runCli(['job', '--server', '127.0.0.1:3000', ...EXAMPLE_ARGS, '-o', out])
    expect(notUrl.code).toBe(EXIT_USAGE)
    expect(notUrl.stderr).toMatch(/--server must be an http\(s\) URL/)

    // --project belongs to export/validate/list: the job reads the server's projects.
    const project = await runCli(['job', '--server', 'http://127.0.0.1:1', '--project', 'examples/kiln-project', ...EXAMPLE_ARGS, '-o', out])
    expect(project.code).toBe(EXIT_USAGE)
    expect(project.stderr).toMatch(/Unknown option '--project'/)
  })

  it('on SIGINT stops waiting and leaves the job running; --cancel-on-interrupt cancels it', async () => {
    const { origin, client } = await server({ slowMs: 150 })
    const dir = await tempDir()
    for (const cancel of [false, true]) {
      // A different system message each time: a different job.
      const args = ['job', '--server', origin, ...EXAMPLE_ARGS.slice(0, -4), '--system-message', `run ${String(cancel)}`, ...EXAMPLE_ARGS.slice(-2), '-o', join(dir, 'x.jsonl'), '--interval', '0.05']
      const child = startCli(cancel ? [...args, '--cancel-on-interrupt'] : args)
      let stderr = ''
      const id = await new Promise<string>((resolve, reject) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8')
          const match = /job (ex_[0-9a-f]{32}) /.exec(stderr)
          if (match?.[1] !== undefined) resolve(match[1])
        })
        child.once('close', () => { reject(new Error(`exited early: ${stderr}`)) })
      })
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve))
      child.kill('SIGINT')
      expect(await closed).toBe(EXIT_INTERRUPTED)
      const job = await requestJson(client, 'GET', `/exports/${id}`)
      if (cancel) {
        expect(stderr).toContain(`job ${id} cancelled`)
        expect(job.json.state).toBe('cancelled')
      } else {
        expect(stderr).toContain(`job ${id} keeps running on the server`)
        expect(job.json.state).not.toBe('cancelled')
        expect((await waitForJob(client, id)).state).toBe('done')
      }
    }
  })
})
