import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
// `import type`: breakdown.ts is a script that runs when loaded.
import type { BreakdownResult } from '../breakdown.js'
import { type ProjectMeta } from '../generate-project.js'
import { post } from './client.js'
import { drainRound } from './jobs.js'
import { checkTransfer, exportBody, log, measureCeiling, repeatExport, withServer } from './measure.js'
import { HEADLINE_FORMAT, HEADLINE_STRATEGY, OUT_DIR, PROFILE_DIR, type Format, type Options, type Strategy } from './options.js'
import { ROOT_DIR, loadAverage, type ServerHandle } from './processes.js'
import { summarizeProfile, type CpuProfile } from './profile.js'
import { type ConcurrentResult, type InlineResult, type JobsResult, type JobsRound, type MountedResult, type ProfileResult } from './results.js'
import { MB, MIB, count, fixed, seconds } from './stats.js'

/* The scenarios of `npm run bench` (see bench/run.ts), each returning its results. */

export async function mountedExport (options: Options, ceiling: ServerHandle, meta: ProjectMeta, format: Format, strategy: Strategy): Promise<MountedResult> {
  const large = meta.runs >= 1_000_000
  // An export of 80k lines or more warms the JIT within its first percent: no separate warm-up.
  const warmup = meta.runs >= 100_000 ? 0 : options.warmup
  const runs = large ? options.largeRuns : options.runs
  log(`  mounted export, ${count(meta.runs)} runs (${count(meta.trainCount)} lines), ${format} / ${strategy}`)
  const capture = join(OUT_DIR, `mounted-${meta.runs}-${format}-${strategy}.jsonl`)
  const { value: measured, idleRss, peakRss, cpuSeconds } = await withServer(options, meta, async (server) =>
    repeatExport(`${server.origin}/datasets/${meta.datasetId}/export`, exportBody(meta, format, strategy), meta.trainCount, warmup, runs, capture, `${format}/${strategy}`))
  const cpuPerExportS = cpuSeconds / (warmup + runs)
  const loadAvg = loadAverage()
  log(`    server RSS: idle ${fixed(idleRss / MIB)} MiB, peak ${fixed(peakRss / MIB)} MiB; server CPU ${fixed(cpuPerExportS, 2)} s per export; load average ${fixed(loadAvg, 2)}`)
  const ceilingResult = await measureCeiling(ceiling, capture, meta.trainCount, Math.min(1, warmup), Math.max(runs, 3))
  await rm(capture, { force: true })
  return { runs: meta.runs, runFileBytes: meta.runBytes, format, strategy, measured, idleRss, peakRss, ceiling: ceilingResult, cpuPerExportS, loadAvg }
}

/** The inline request body: the split, the task and every run of the task, as Kiln stores them (sorted by id, like the fixtures). */
async function inlineBody (meta: ProjectMeta): Promise<{ body: Buffer, lines: number }> {
  const runsDir = join(meta.taskDir, 'runs')
  const names = await readdir(runsDir)
  const taskRuns = await Promise.all(names.map(async (name) => JSON.parse(await readFile(join(runsDir, name, 'task_run.kiln'), 'utf8')) as { id: string }))
  taskRuns.sort((a, b) => a.id.localeCompare(b.id))
  const splitsDir = join(meta.taskDir, 'dataset_splits')
  const [splitFolder] = await readdir(splitsDir)
  if (splitFolder === undefined) throw new Error('no dataset split')
  const datasetSplit = JSON.parse(await readFile(join(splitsDir, splitFolder, 'dataset_split.kiln'), 'utf8')) as unknown
  const task = JSON.parse(await readFile(join(meta.taskDir, 'task.kiln'), 'utf8')) as unknown
  const body = {
    ...JSON.parse(exportBody(meta, HEADLINE_FORMAT, HEADLINE_STRATEGY)) as object,
    task,
    dataset_split: datasetSplit,
    task_runs: taskRuns
  }
  return { body: Buffer.from(JSON.stringify(body)), lines: meta.trainCount }
}

export async function inlineExport (options: Options, ceiling: ServerHandle, meta: ProjectMeta): Promise<InlineResult> {
  const { body, lines } = await inlineBody(meta)
  log(`  inline export: ${count(meta.runs)} runs in a ${fixed(body.length / MB)} MB request, ${count(lines)} lines out`)
  const capture = join(OUT_DIR, `inline-${meta.runs}.jsonl`)
  const { value: measured, idleRss, peakRss } = await withServer(options, meta, async (server) =>
    repeatExport(`${server.origin}/datasets/${meta.datasetId}/export`, body, lines, options.warmup, options.runs, capture, 'inline'))
  log(`    server RSS: idle ${fixed(idleRss / MIB)} MiB, peak ${fixed(peakRss / MIB)} MiB`)
  const ceilingResult = await measureCeiling(ceiling, capture, lines, Math.min(1, options.warmup), Math.max(options.runs, 3), body)
  await rm(capture, { force: true })
  return { runs: meta.runs, requestBytes: body.length, measured, idleRss, peakRss, ceiling: ceilingResult }
}

async function concurrentRounds (url: string, body: string, lines: number, concurrency: number, rounds: number): Promise<Array<{ wallMs: number, bytes: number, latenciesMs: number[] }>> {
  const result: Array<{ wallMs: number, bytes: number, latenciesMs: number[] }> = []
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    const transfers = await Promise.all(Array.from({ length: concurrency }, async () => checkTransfer(await post(url, body), lines, 'concurrent')))
    const wallMs = performance.now() - started
    const bytes = transfers.reduce((sum, t) => sum + t.bytes, 0)
    result.push({ wallMs, bytes, latenciesMs: transfers.map((t) => t.totalMs) })
    log(`    round ${round + 1}/${rounds}: ${seconds(wallMs)} s, ${fixed(bytes / MB / (wallMs / 1000))} MB/s aggregate`)
  }
  return result
}

export async function concurrentExports (options: Options, ceiling: ServerHandle, meta: ProjectMeta): Promise<ConcurrentResult> {
  const { concurrency } = options
  log(`  ${concurrency} concurrent exports of a ${count(meta.runs)}-run project's train split (${count(meta.trainCount)} lines each)`)
  const capture = join(OUT_DIR, `concurrent-${meta.runs}.jsonl`)
  const body = exportBody(meta, HEADLINE_FORMAT, HEADLINE_STRATEGY)
  const { value: rounds, idleRss, peakRss } = await withServer(options, meta, async (server) => {
    const url = `${server.origin}/datasets/${meta.datasetId}/export`
    checkTransfer(await post(url, body, { saveTo: capture }), meta.trainCount, 'capture')
    if (options.warmup > 0) await concurrentRounds(url, body, meta.trainCount, concurrency, options.warmup)
    return concurrentRounds(url, body, meta.trainCount, concurrency, options.runs)
  })
  log(`    server RSS: idle ${fixed(idleRss / MIB)} MiB, peak ${fixed(peakRss / MIB)} MiB`)
  await post(`${ceiling.origin}/load`, JSON.stringify({ file: capture }))
  log('    ceiling:')
  const ceilingRounds = await concurrentRounds(`${ceiling.origin}/stream`, '{}', meta.trainCount, concurrency, Math.max(options.runs, 3))
  await rm(capture, { force: true })
  return { runs: meta.runs, concurrency, rounds, ceilingRounds, idleRss, peakRss }
}

function monotonicUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

export async function profileExport (options: Options, meta: ProjectMeta): Promise<ProfileResult> {
  const dir = join(PROFILE_DIR, new Date().toISOString().replace(/[:.]/g, '-'))
  await mkdir(dir, { recursive: true })
  log(`  --cpu-prof of the ${count(meta.runs)}-run mounted ${HEADLINE_FORMAT} export (profiles in ${relative(ROOT_DIR, dir)})`)
  const body = exportBody(meta, HEADLINE_FORMAT, HEADLINE_STRATEGY)
  const { value: window } = await withServer(options, meta, async (server) => {
    const url = `${server.origin}/datasets/${meta.datasetId}/export`
    await post(url, body) // warm-up: the profile window below covers only the second export
    const startUs = monotonicUs()
    const transfer = await post(url, body)
    const endUs = monotonicUs()
    checkTransfer(transfer, meta.trainCount, 'profile')
    return { startUs, endUs, ms: transfer.totalMs }
  }, ['--cpu-prof', '--cpu-prof-dir', dir])
  // One profile per thread: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is main.
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'))
  const file = files.find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name))
  if (file === undefined) throw new Error(`no main-thread .cpuprofile written in ${dir}`)
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile
  const summary = summarizeProfile(profile, window)
  let workerBusyUs = 0
  for (const other of files.filter((name) => name !== file)) {
    const worker = summarizeProfile(JSON.parse(await readFile(join(dir, other), 'utf8')) as CpuProfile, window)
    workerBusyUs += worker.categories.filter((c) => !c.name.startsWith('idle')).reduce((sum, c) => sum + c.us, 0)
  }
  log(`    ${summary.windowed ? 'measured export only' : 'whole process (window not aligned)'}: ${fixed(summary.totalUs / 1000, 0)} ms of samples`)
  return { runs: meta.runs, exportMs: window.ms, file: relative(ROOT_DIR, join(dir, file)), summary, workerBusyUs }
}

export async function breakdown (options: Options, meta: ProjectMeta): Promise<BreakdownResult & { runs: number, repeats: number }> {
  log(`  breakdown of the pieces on the ${count(meta.runs)}-run project (no HTTP)`)
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT_DIR, 'bench', 'breakdown.ts'), '--project', meta.projectsDir, '--runs', String(options.breakdownRuns)], {
    cwd: ROOT_DIR,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => { out += chunk })
  const code = await new Promise<number | null>((resolve) => { child.once('exit', resolve) })
  if (code !== 0) throw new Error(`breakdown failed with code ${String(code)}`)
  return { ...(JSON.parse(out) as BreakdownResult), runs: meta.runs, repeats: options.breakdownRuns }
}

/**
 * Export jobs (bench/lib/jobs.ts): a queue of `options.jobs` exports drained by each worker count of
 * `options.jobWorkers`; skipped, saying why, where the server has no job API.
 */
export async function exportJobs (options: Options, meta: ProjectMeta): Promise<JobsResult> {
  log(`  a queue of ${options.jobs} exports of a ${count(meta.runs)}-run project's train split (${count(meta.trainCount)} lines each), ` +
    `drained by ${options.jobWorkers.join(' and by ')} worker process(es)`)
  const rounds: JobsRound[] = []
  for (const workers of options.jobWorkers) {
    const round = await drainRound(options, meta, options.jobs, workers)
    if (typeof round === 'string') {
      log(`    jobs: skipped: ${round}`)
      return { runs: meta.runs, lines: meta.trainCount, skipped: round, rounds: [] }
    }
    rounds.push(round)
  }
  return { runs: meta.runs, lines: meta.trainCount, rounds }
}
