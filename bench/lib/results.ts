import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
// `import type`: breakdown.ts is a script that runs when loaded.
import type { BreakdownResult } from '../breakdown.js'
import { type ProjectMeta } from '../generate-project.js'
import { type Format, type Strategy } from './options.js'
import { type ServerMode } from './processes.js'
import { type ProfileSummary } from './profile.js'

/* What a bench run measured (saved as JSON under bench/data/results, rendered by report.ts). */

export interface ExportRun {
  readonly bytes: number
  readonly lines: number
  readonly ttfbMs: number
  readonly totalMs: number
}

export interface CeilingResult {
  /** Download-only ceiling (tiny request body): total ms per run. */
  readonly totalMs: readonly number[]
  /** Round trip ceiling (the same request body uploaded): total ms per run, inline only. */
  readonly roundTripMs?: readonly number[]
}

export interface MountedResult {
  readonly runs: number
  readonly runFileBytes: number
  readonly format: Format
  readonly strategy: Strategy
  readonly measured: readonly ExportRun[]
  readonly idleRss: number
  readonly peakRss: number
  readonly ceiling: CeilingResult
  /** Server CPU seconds (all threads) per export, warm-ups included: robust to a busy machine, unlike wall time. */
  readonly cpuPerExportS?: number
  /** 1-minute load average when the scenario ended (the machine is shared: >2 means others competed for the 2 cores). */
  readonly loadAvg?: number
}

/** Kiln's dump_to_file and ours on the same split, in the same bench run (bench/lib/kiln.ts). */
export interface KilnResult {
  readonly runs: number
  /** Kiln's whole Python process: start-up, loading the split and runs, writing the file. */
  readonly kilnWallMs: number
  /** Kiln's own timing of load + dump_to_file (without interpreter start-up). */
  readonly kilnInnerSeconds: number
  readonly kilnPeakRss: number
  readonly ourWallMs: number
  readonly ourPeakRss: number
  /** True when both files have the same bytes. */
  readonly identical: boolean
  readonly sha256: string
}

export interface InlineResult {
  readonly runs: number
  readonly requestBytes: number
  readonly measured: readonly ExportRun[]
  readonly idleRss: number
  readonly peakRss: number
  readonly ceiling: CeilingResult
}

export interface ConcurrentResult {
  readonly runs: number
  readonly concurrency: number
  readonly rounds: ReadonlyArray<{ readonly wallMs: number, readonly bytes: number, readonly latenciesMs: readonly number[] }>
  readonly ceilingRounds: ReadonlyArray<{ readonly wallMs: number, readonly bytes: number, readonly latenciesMs: readonly number[] }>
  readonly idleRss: number
  readonly peakRss: number
}

export interface ProfileResult {
  readonly runs: number
  readonly exportMs: number
  readonly file: string
  readonly summary: ProfileSummary
  /** Busy samples of the other threads (the run-file worker) in the same window; absent in older results. */
  readonly workerBusyUs?: number
}

/** One drain of the job queue (bench/lib/jobs.ts). */
export interface JobsRound {
  readonly workers: number
  readonly jobs: number
  /** From the workers' start to the last job done. */
  readonly wallMs: number
  /** From the workers' start to the first job done (start-up plus one export). */
  readonly firstDoneMs: number
  /** Each worker's peak RSS (VmHWM), bytes. */
  readonly workerPeakRss: readonly number[]
  /** Each worker's CPU seconds (all threads). */
  readonly workerCpuS: readonly number[]
  readonly apiPeakRss: number
  /** Results whose line count was checked (those the API links to). */
  readonly verified: number
  /** 1-minute load average when the round ended (above 2: other processes competed for the 2 cores). */
  readonly loadAvg: number
}

export interface JobsResult {
  readonly runs: number
  /** Lines of each job's result (the train split). */
  readonly lines: number
  /** Why the scenario did not run (no job API, no redis-server). */
  readonly skipped?: string
  readonly rounds: readonly JobsRound[]
}

/** The sync export through the idle proxy (bench/lib/proxy.ts). */
export interface ProxySync {
  /** completed: a 200 and its whole body; failed: another status; cut: the connection closed first. */
  readonly outcome: 'completed' | 'failed' | 'cut'
  readonly status?: number
  /** Request start to the response head, when one arrived. */
  readonly ttfbMs?: number
  /** Request start to the end of the body, or to the cut. */
  readonly afterMs: number
  /** Body bytes and lines received (before the cut, if cut). */
  readonly bytes: number
  readonly lines: number
  readonly error?: string
}

/** The export job through the idle proxy: POST, polls, download. */
export interface ProxyJob {
  /** How long POST /exports took to answer (it must answer within the idle timeout). */
  readonly postMs: number
  /** From the POST to the poll that saw it done. */
  readonly doneMs: number
  readonly polls: number
  readonly downloadMs: number
  /** From the POST to the last byte of the download. */
  readonly wallMs: number
  readonly bytes: number
  readonly lines: number
  readonly sha256: string
  readonly manifestSha256: string
  /** SHA-256, bytes and lines equal to the job's manifest, and the split's lines. */
  readonly matches: boolean
}

export interface ProxyResult {
  readonly runs: number
  readonly lines: number
  readonly idleMs: number
  readonly pollMs: number
  readonly sync: ProxySync
  readonly job: ProxyJob
  /** Connections the proxy cut for idleness during the sync export, and during the job. */
  readonly cutBySync: number
  readonly cutByJob: number
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly kernel: string
  readonly date: string
}

export interface Results {
  readonly machine: Machine
  readonly command: string
  readonly server: ServerMode
  readonly serverTweaks?: string
  readonly runs: number
  readonly warmup: number
  readonly largeRuns: number
  readonly projects: readonly ProjectMeta[]
  readonly mounted: MountedResult[]
  inline?: InlineResult
  concurrent?: ConcurrentResult
  profile?: ProfileResult
  breakdown?: BreakdownResult & { readonly runs: number, readonly repeats: number }
  kiln?: KilnResult[]
  jobs?: JobsResult
  proxy?: ProxyResult
  readonly wallSeconds: number
}

export function machineInfo (): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown'
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match?.[1] !== undefined) cpu = match[1].trim()
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    kernel: release(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  }
}
