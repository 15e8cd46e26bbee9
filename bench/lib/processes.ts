/**
 * Child processes of the benchmark: the real kiln-export server and the ceiling server.
 * Each is one node process (no npx/tsx wrapper), so /proc/<pid>/status is the server's own memory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readdir, rm, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BENCH_DIR } from '../generate-project.js'
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../../src/runtime-flags.js'

export const ROOT_DIR = join(BENCH_DIR, '..')
/**
 * The compiled server lives outside the repository, so that `eslint .` and editors never see it.
 * Every other top-level entry of the repository (node_modules, package.json, data/, examples/, ...)
 * is linked next to it, so that it resolves packages and reads its assets exactly like dist/.
 * One folder per checkout (keyed by its path): two checkouts benchmarking at once must not
 * delete or overwrite each other's build.
 */
export function benchBuildRoot (rootDir: string, uid: number = process.getuid?.() ?? 0): string {
  const checkout = createHash('sha256').update(rootDir).digest('hex').slice(0, 12)
  return join(tmpdir(), `kiln-export-bench-build-${uid}-${checkout}`)
}
const BUILD_ROOT = benchBuildRoot(ROOT_DIR)
const NOT_LINKED = new Set(['src', 'dist', 'bench', 'test', 'coverage', 'test-artifacts', '.git'])
const BUILD_DIR = join(BUILD_ROOT, 'dist')

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

/** Compile src/ to a private dist/ folder (what `npm run build` does), outside the repository. */
export async function buildServer (): Promise<string> {
  await rm(BUILD_ROOT, { recursive: true, force: true })
  await mkdir(BUILD_ROOT, { recursive: true })
  for (const name of await readdir(ROOT_DIR)) {
    if (!NOT_LINKED.has(name)) await symlink(join(ROOT_DIR, name), join(BUILD_ROOT, name))
  }
  const tsc = join(ROOT_DIR, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR, '--sourceMap', 'false'], {
    cwd: ROOT_DIR,
    encoding: 'utf8'
  })
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`)
  return BUILD_DIR
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

/** CPU time (user + system, all threads) a process has used so far, in seconds; Linux clock ticks are 1/100 s. */
export function readCpuSeconds (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

/** The 1-minute load average: how busy the machine was (other processes included). */
export function loadAverage (): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  } catch {
    return Number.NaN
  }
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
  /** CPU seconds used since start-up finished (all threads: main, thread pool, GC). */
  cpuSeconds (): number
  /** SIGTERM, wait for a clean exit (a --cpu-prof profile is written then). */
  stop (): Promise<void>
  /** What the process wrote on stderr (for failures). */
  stderr (): string
}

interface StartOptions {
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string>>
  /** The path that answers 200 once the process serves; undefined for a process with no HTTP port (a job worker). */
  readonly readyPath: string | undefined
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
    // The malloc settings of `npm start` and the image (SERVER_ENV), then the experiment's own.
    env: { ...process.env, ...SERVER_ENV, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
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
    if (options.readyPath !== undefined) await waitReady(child, origin, options.readyPath, options.label, stderr)
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
  const startCpu = readCpuSeconds(pid) ?? 0
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
    cpuSeconds: () => (readCpuSeconds(pid) ?? startCpu) - startCpu,
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
  /** The server's cap on exports at once (MAX_CONCURRENT_EXPORTS; default 64 here). */
  readonly maxConcurrentExports?: number
  /** Extra environment for experiments (e.g. UV_THREADPOOL_SIZE). */
  readonly env?: Readonly<Record<string, string>>
}

/** Start the kiln-export server on a free port (LOG_LEVEL=warn). */
export async function startKilnServer (options: KilnServerOptions): Promise<ServerHandle> {
  const entry = options.mode === 'dist'
    ? [join(BUILD_DIR, 'server.js')]
    : ['--import', 'tsx', join(ROOT_DIR, 'src', 'server.ts')]
  return startProcess({
    // The flags the Docker image and `npm start` run with, then the experiment's own.
    args: [...SERVER_NODE_FLAGS, ...(options.nodeArgs ?? []), ...entry],
    env: {
      KILN_PROJECTS_DIR: options.projectsDir,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      NODE_ENV: 'production',
      // Room for the concurrency scenario even while the previous round's sockets are closing.
      MAX_CONCURRENT_EXPORTS: String(options.maxConcurrentExports ?? 64),
      // A 1M-run export's check pass sends nothing for minutes; the default idle timeout (120 s) would cut it.
      CONNECTION_TIMEOUT_MS: '1800000',
      ...options.env
    },
    readyPath: '/health',
    label: 'kiln-export server'
  })
}

/** Start `kiln-export worker` (export jobs from REDIS_URL's queue): no port, so no readiness wait. */
export async function startJobWorker (options: KilnServerOptions & { readonly env: Readonly<Record<string, string>> }): Promise<ServerHandle> {
  const entry = options.mode === 'dist'
    ? [join(BUILD_DIR, 'cli', 'main.js')]
    : ['--import', 'tsx', join(ROOT_DIR, 'src', 'cli', 'main.ts')]
  return startProcess({
    args: [...SERVER_NODE_FLAGS, ...(options.nodeArgs ?? []), ...entry, 'worker'],
    env: { KILN_PROJECTS_DIR: options.projectsDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', NODE_ENV: 'production', ...options.env },
    readyPath: undefined,
    label: 'kiln-export worker'
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
