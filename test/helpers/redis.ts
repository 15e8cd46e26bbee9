import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/** A private redis-server for one test: its URL, and stop/start to restart it on the same port. */
export interface TestRedis {
  readonly url: string
  readonly port: number
  stop (): Promise<void>
  start (): Promise<void>
}

/** Whether Debian's redis-server is installed (.ci/run installs it). */
export function hasRedisServer (): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

/**
 * Start redis-server on a free port, with its data in a temp folder: `persist` turns on the
 * append-only file (fsync always), so a restart keeps the queue, as a production Redis should.
 * Stopped and removed when the test finishes.
 */
export async function startRedis (options: { persist?: boolean } = {}): Promise<TestRedis> {
  if (!hasRedisServer()) throw new Error('redis-server is not installed: these tests start their own (apt-get install -y redis-server; .ci/run does)')
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    ...(options.persist === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])]
  const start = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    await new Promise<void>((resolve, reject) => {
      let output = ''
      started.stdout?.on('data', (data: Buffer) => {
        output += data.toString()
        if (output.includes('Ready to accept connections')) resolve()
      })
      started.once('exit', (code) => { reject(new Error(`redis-server exited (${String(code)}): ${output}`)) })
    })
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => { resolve() })
      running.kill('SIGTERM')
    })
  }
  onTestFinished(async () => {
    await stop()
    await rm(dir, { recursive: true, force: true })
  })
  await start()
  return { url: `redis://127.0.0.1:${port}`, port, stop, start }
}

const ROOT = new URL('../../', import.meta.url).pathname

/** A worker process (test/jobs/fixtures/worker.ts, or the real `kiln-export worker`) and its JSON log lines. */
export interface WorkerProcess {
  readonly child: ChildProcess
  readonly logs: Array<Record<string, unknown>>
  /** The ids of the jobs it started. */
  started (): string[]
}

/** Start a worker and wait until it takes jobs; SIGKILLed when the test finishes, if still running. */
export async function startWorkerProcess (env: Record<string, string>, options: { cli?: boolean } = {}): Promise<WorkerProcess> {
  const args = options.cli === true ? ['--import', 'tsx', 'src/cli/main.ts', 'worker'] : ['--import', 'tsx', 'test/jobs/fixtures/worker.ts']
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr?.on('data', (data: Buffer) => { stderr += data.toString() })
  await new Promise<void>((resolve, reject) => {
    let rest = ''
    child.once('exit', (code) => { reject(new Error(`worker exited early (${String(code)}): ${stderr}`)) })
    child.stdout?.on('data', (data: Buffer) => {
      const lines = (rest + data.toString()).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          if (entry.msg === 'worker ready' || entry.msg === 'export worker started') resolve()
        } catch {}
      }
    })
  })
  return { child, logs, started: () => logs.filter((l) => l.msg === 'export job started').map((l) => String(l.job)) }
}
