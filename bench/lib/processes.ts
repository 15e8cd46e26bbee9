/**
 * Child processes of the benchmark: the real kiln-export server and the ceiling server.
 * Each is one node process (no npx/tsx wrapper), so /proc/<pid>/status is the server's own memory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BENCH_DIR, DATA_DIR } from '../generate-project.js'

export const ROOT_DIR = join(BENCH_DIR, '..')
const BUILD_DIR = join(DATA_DIR, 'build', 'dist')

/** How the server runs: compiled JavaScript as in the Docker image, or TypeScript through tsx as `npm start`. */
export type ServerMode = 'dist' | 'tsx'

/** A free TCP port on 127.0.0.1 (the server cannot report PORT=0's choice, so we pick one). */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => { resolve(port) })
    })
  })
}

/** Compile src/ to bench/.data/build/dist (what `npm run build` does, in a private folder). */
export async function buildServer (): Promise<void> {
  await rm(BUILD_DIR, { recursive: true, force: true })
  const tsc = join(ROOT_DIR, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR, '--sourceMap', 'false'], {
    cwd: ROOT_DIR,
    encoding: 'utf8'
  })
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`)
}

/** Memory of a process from /proc/<pid>/status, in bytes. */
export interface MemoryReading {
  /** Peak resident set size (VmHWM). */
  readonly peak: number
  /** Current resident set size (VmRSS). */
  readonly current: number
}

export function readMemory (pid: number): MemoryReading | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)
    return match === null ? 0 : Number(match[1]) * 1024
  }
  return { peak: kb('VmHWM'), current: kb('VmRSS') }
}

/** A running child server. */
export interface ServerHandle {
  readonly pid: number
  readonly port: number
  readonly origin: string
  /** Largest VmHWM seen (polled, and read once more at stop). */
  peakRss (): number
  /** VmRSS right after start-up. */
  readonly idleRss: number
  /** SIGTERM, wait for a clean exit (a --cpu-prof profile is written then). */
  stop (): Promise<void>
  /** What the process wrote on stderr (for failures). */
  stderr (): string
}

interface StartOptions {
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly readyPath: string
  /** Probe: the node process must be the server itself (no wrapper, no child process). */
  readonly label: string
}

async function waitReady (child: ChildProcess, origin: string, readyPath: string, label: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${label} exited with code ${child.exitCode}:\n${stderr()}`)
    try {
      const response = await fetch(origin + readyPath)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  throw new Error(`${label} did not answer ${readyPath} within 60 s:\n${stderr()}`)
}

/** Check that `pid` is a node process with no children (so its /proc memory is the whole server). */
function assertSingleProcess (pid: number, label: string): void {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  if (cmdline[0] !== process.execPath) throw new Error(`${label}: pid ${pid} is ${cmdline[0] ?? '?'}, not node`)
  const childrenFile = `/proc/${pid}/task/${pid}/children`
  const children = existsSync(childrenFile) ? readFileSync(childrenFile, 'utf8').trim() : ''
  if (children !== '') throw new Error(`${label}: pid ${pid} has child processes (${children}); memory would be under-counted`)
}

async function startProcess (options: StartOptions): Promise<ServerHandle> {
  const port = await freePort()
  const child = spawn(process.execPath, options.args, {
    cwd: ROOT_DIR,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let err = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { err = (err + chunk).slice(-20_000) })
  const stderr = (): string => err
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.label} did not start`)
  const origin = `http://127.0.0.1:${port}`
  try {
    await waitReady(child, origin, options.readyPath, options.label, stderr)
    assertSingleProcess(pid, options.label)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  let peak = 0
  const poll = (): void => {
    const memory = readMemory(pid)
    if (memory !== undefined) peak = Math.max(peak, memory.peak)
  }
  poll()
  const idleRss = readMemory(pid)?.current ?? 0
  const timer = setInterval(poll, 100)
  timer.unref()
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve()
    else child.once('exit', () => { resolve() })
  })
  return {
    pid,
    port,
    origin,
    idleRss,
    peakRss: () => {
      poll()
      return peak
    },
    stderr,
    async stop () {
      poll()
      clearInterval(timer)
      if (child.exitCode === null) child.kill('SIGTERM')
      const killer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
      await exited
      clearTimeout(killer)
    }
  }
}

export interface KilnServerOptions {
  readonly mode: ServerMode
  readonly projectsDir: string
  /** Extra node flags (for example --cpu-prof). */
  readonly nodeArgs?: readonly string[]
}

/** Start the kiln-export server on a free port (LOG_LEVEL=warn). */
export async function startKilnServer (options: KilnServerOptions): Promise<ServerHandle> {
  const entry = options.mode === 'dist'
    ? [join(BUILD_DIR, 'server.js')]
    : ['--import', 'tsx', join(ROOT_DIR, 'src', 'server.ts')]
  return startProcess({
    args: [...(options.nodeArgs ?? []), ...entry],
    env: { KILN_PROJECTS_DIR: options.projectsDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', NODE_ENV: 'production' },
    readyPath: '/health',
    label: 'kiln-export server'
  })
}

/** Start the ceiling server (bench/ceiling-server.ts). */
export async function startCeilingServer (): Promise<ServerHandle> {
  return startProcess({
    args: ['--import', 'tsx', join(BENCH_DIR, 'ceiling-server.ts')],
    env: {},
    readyPath: '/health',
    label: 'ceiling server'
  })
}
