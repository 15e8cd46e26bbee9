import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { HEADLINE_FORMAT, HEADLINE_STRATEGY, MARK_END, MARK_START } from './options.js'
import { type ConcurrentResult, type ExportRun, type MountedResult, type Results } from './results.js'
import { RECORDED_KILN } from './kiln.js'
import { MB, MIB, count, fixed, max, median, percentile, seconds, secondsSpread, table } from './stats.js'
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../../src/runtime-flags.js'

/* The results as Markdown tables and verdicts, written between the markers of BENCHMARKS.md. */

const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000)

function exportStats (runs: readonly ExportRun[]): { wallMs: number, ttfbMs: number, bytes: number, lines: number } {
  return {
    wallMs: median(runs.map((r) => r.totalMs)),
    ttfbMs: median(runs.map((r) => r.ttfbMs)),
    bytes: runs[0]?.bytes ?? 0,
    lines: runs[0]?.lines ?? 0
  }
}

function headline (results: Results, runs: number): MountedResult | undefined {
  return results.mounted.find((m) => m.runs === runs && m.format === HEADLINE_FORMAT && m.strategy === HEADLINE_STRATEGY)
}

function mountedTable (rows: readonly MountedResult[]): string {
  const withCpu = rows.some((m) => m.cpuPerExportS !== undefined)
  return table(
    ['runs', 'lines', 'format', 'strategy', 'output MB', 'wall s, median (min–max)', 'MB/s', 'lines/s', 'TTFB s', 'ceiling MB/s', 'of ceiling', 'peak RSS MiB', 'idle RSS MiB',
      ...(withCpu ? ['server CPU s / export', 'load avg'] : [])],
    rows.map((m) => {
      const s = exportStats(m.measured)
      const ceilingMs = median(m.ceiling.totalMs)
      return [
        count(m.runs), count(s.lines), m.format, m.strategy, fixed(s.bytes / MB), secondsSpread(m.measured.map((r) => r.totalMs)),
        fixed(mbps(s.bytes, s.wallMs)), count(Math.round(s.lines / (s.wallMs / 1000))), seconds(s.ttfbMs),
        fixed(mbps(s.bytes, ceilingMs)), `${fixed((ceilingMs / s.wallMs) * 100, 1)}%`, fixed(m.peakRss / MIB), fixed(m.idleRss / MIB),
        ...(withCpu ? [fixed(m.cpuPerExportS, 2), fixed(m.loadAvg, 1)] : [])
      ]
    }),
    ['r', 'r', 'l', 'l']
  )
}

interface Verdict { readonly target: string, readonly measured: string, readonly met: boolean | undefined }

function verdicts (results: Results): Verdict[] {
  const list: Verdict[] = []
  const h100 = headline(results, 100_000)
  if (h100 !== undefined) {
    const s = exportStats(h100.measured)
    list.push({ target: '100k-run mounted export, 80k-line train split (openai_chat_jsonl, final_only): wall time < ~2 s', measured: `${seconds(s.wallMs)} s median`, met: s.wallMs <= 2000 })
    const kiln = results.kiln?.find((k) => k.runs === 100_000)
    const kilnMs = kiln?.kilnWallMs ?? RECORDED_KILN.seconds * 1000
    const where = kiln === undefined ? `Kiln's recorded ${RECORDED_KILN.seconds} s (not measured in this run: set KILN_CORE)` : `Kiln ${seconds(kiln.kilnWallMs)} s in this run, bytes ${kiln.identical ? 'identical' : 'DIFFERENT'}`
    list.push({ target: '… the same at 20x Kiln\'s dump_to_file or better (aim: 40x)', measured: `${fixed(kilnMs / s.wallMs, 1)}x (${where})`, met: kilnMs / s.wallMs >= 20 })
    const all = results.mounted.filter((m) => m.runs === 100_000)
    if (all.length > 1) {
      const worst = all.reduce((a, b) => exportStats(a.measured).wallMs > exportStats(b.measured).wallMs ? a : b)
      const fast = all.filter((m) => exportStats(m.measured).wallMs <= 2000).length
      list.push({ target: `… the same for all ${all.length} format × strategy combinations`, measured: `${fast} of ${all.length} under 2 s; slowest ${worst.format}/${worst.strategy} ${seconds(exportStats(worst.measured).wallMs)} s`, met: fast === all.length })
    }
    list.push({ target: '100k-run mounted export: peak server RSS < 150 MiB', measured: `${fixed(h100.peakRss / MIB)} MiB (idle after start-up ${fixed(h100.idleRss / MIB)} MiB)`, met: h100.peakRss < 150 * MIB })
    if (all.length > 1) {
      const peak = max(all.map((m) => m.peakRss))
      list.push({ target: `… the same for all ${all.length} combinations`, measured: `max ${fixed(peak / MIB)} MiB`, met: peak < 150 * MIB })
    }
  }
  const ttfb = [100_000, 1_000_000].map((runs) => ({ runs, h: headline(results, runs) }))
  list.push({
    target: 'time to first byte of the headline export at 100k and 1M runs (reported; the check pass reads every run first)',
    measured: ttfb.map(({ runs, h }) => `${count(runs)}: ${h === undefined ? 'not run' : `${seconds(exportStats(h.measured).ttfbMs)} s`}`).join('; '),
    met: undefined
  })
  const h1m = headline(results, 1_000_000)
  if (h1m !== undefined && h100 !== undefined) {
    const ratio = h1m.peakRss / h100.peakRss
    list.push({ target: '1M-run export: peak RSS within 20% of the 100k one', measured: `${fixed(h1m.peakRss / MIB)} MiB vs ${fixed(h100.peakRss / MIB)} MiB = ${fixed(ratio, 2)}×`, met: ratio <= 1.2 })
  } else {
    list.push({ target: '1M-run export: peak RSS within 20% of the 100k one', measured: 'not run (use --full)', met: undefined })
  }
  const inline = results.inline
  if (inline !== undefined) {
    const s = exportStats(inline.measured)
    const roundTrip = median(inline.ceiling.roundTripMs ?? [])
    const download = median(inline.ceiling.totalMs)
    const ratio = roundTrip / s.wallMs
    list.push({
      target: `inline export (${count(inline.runs)} runs in one request) ≥ 70% of the loopback ceiling (same request body up, same bytes down)`,
      measured: `${fixed(ratio * 100, 1)}% (${seconds(s.wallMs)} s vs ${seconds(roundTrip)} s)`,
      met: ratio >= 0.7
    })
    const streamMs = s.wallMs - s.ttfbMs
    list.push({
      target: '… streaming phase only (first byte to last) vs the download-only ceiling',
      measured: `${fixed((download / streamMs) * 100, 1)}% (${seconds(streamMs)} s vs ${seconds(download)} s)`,
      met: download / streamMs >= 0.7
    })
  }
  return list
}

/** Kiln side by side (KILN_CORE), or the recorded figure, said to be recorded. */
function kilnSection (results: Results): string {
  const rows = results.kiln ?? []
  if (rows.length === 0) {
    return 'Kiln\'s own `dump_to_file` was not run here (set KILN_CORE to a Kiln checkout\'s libs/core, with Python and pydantic, to run it side by side). ' +
      `Recorded figure, not measured by this run: ${count(RECORDED_KILN.runs)} runs in ${RECORDED_KILN.seconds} s and ${fixed(RECORDED_KILN.peakRssMiB / 1024, 1)} GiB (${RECORDED_KILN.note}).`
  }
  return 'Kiln\'s own `dump_to_file` (bench/kiln_dump.py: `DatasetSplit.load_from_file`, then the formatter, in one Python process, start-up included) on the same split, in the same run, one after the other:\n\n' +
    table(['runs', 'Kiln wall s', 'Kiln load + dump s', 'Kiln peak RSS MiB', 'ours wall s', 'ours peak RSS MiB', 'ratio', 'same bytes'],
      rows.map((k) => [count(k.runs), seconds(k.kilnWallMs), fixed(k.kilnInnerSeconds, 2), fixed(k.kilnPeakRss / MIB, 0), seconds(k.ourWallMs), fixed(k.ourPeakRss / MIB),
        `${fixed(k.kilnWallMs / k.ourWallMs, 1)}x`, k.identical ? 'yes' : '**no**']))
}

export function renderResults (results: Results): string {
  const out: string[] = []
  const m = results.machine
  out.push(`Measured ${m.date} on **${m.cpu}**, ${m.cores} cores, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}. ` +
    `Server: ${results.server === 'dist' ? `compiled JavaScript, as \`npm start\` and the Docker image run it (\`${Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} node ${SERVER_NODE_FLAGS.join(' ')} dist/server.js\`)` : '`node --import tsx src/server.ts` (the sources, as `npm run dev`)'}, ` +
    `${results.serverTweaks === undefined || results.serverTweaks === '' ? '' : `**experiment: ${results.serverTweaks}**, `}` +
    'LOG_LEVEL=warn, one fresh process per scenario; client: undici in the runner process, same machine, loopback. ' +
    `Times are medians of ${results.runs} runs, after ${results.warmup} warm-up export below 100k runs (none from 100k up: the first percent of the export warms the JIT; 1M runs: ${results.largeRuns} run); ` +
    'the page cache is warm (the project files were read or written just before).')
  out.push('')
  out.push(`Reproduce: \`${results.command}\` (total ${fixed(results.wallSeconds / 60, 1)} min including project generation).`)
  out.push('')
  out.push('### Targets')
  out.push('')
  out.push(table(['target', 'measured', 'met?'], verdicts(results).map((v) => [v.target, v.measured, v.met === undefined ? '—' : v.met ? '✅ yes' : '❌ no']), ['l', 'l', 'l']))
  out.push('')
  out.push('### Projects')
  out.push('')
  out.push(table(['runs', 'run files MB', 'bytes per run file', 'train lines', 'repaired', 'with thinking', 'non-ASCII', 'generated in s'],
    results.projects.map((p) => [count(p.runs), fixed(p.runBytes / MB), count(Math.round(p.runBytes / p.runs)), count(p.trainCount),
      `${fixed((p.stats.repaired / p.runs) * 100, 0)}%`, `${fixed((p.stats.withThinking / p.runs) * 100, 0)}%`, `${fixed((p.stats.nonAscii / p.runs) * 100, 0)}%`, fixed(p.generatedInSeconds)])))
  out.push('')
  if (results.mounted.length > 0) {
    out.push('### Mounted-project export of the train split')
    out.push('')
    out.push('TTFB is the time to the response headers: the server answers only after its first pass has read and checked every run, ' +
      'so TTFB ≈ the check pass and wall − TTFB ≈ the streaming pass. "of ceiling" is the ceiling\'s time divided by ours for the same bytes. ' +
      'Server CPU (all its threads, from /proc) is steadier than wall time on a shared machine; a load average above 2 means other processes competed for the 2 cores.')
    out.push('')
    const headlines = results.mounted.filter((r) => r.format === HEADLINE_FORMAT && r.strategy === HEADLINE_STRATEGY)
    out.push(mountedTable(headlines))
    out.push('')
    out.push(kilnSection(results))
    out.push('')
    const sizes = [...new Set(results.mounted.map((r) => r.runs))]
    for (const size of sizes) {
      const rows = results.mounted.filter((r) => r.runs === size)
      if (rows.length <= 1) continue
      out.push(`#### All formats and strategies, ${count(size)} runs`)
      out.push('')
      out.push(mountedTable(rows))
      out.push('')
    }
  }
  const inline = results.inline
  if (inline !== undefined) {
    const s = exportStats(inline.measured)
    const download = median(inline.ceiling.totalMs)
    const roundTrip = median(inline.ceiling.roundTripMs ?? [])
    out.push(`### Inline export: ${count(inline.runs)} runs in one request`)
    out.push('')
    out.push(`The request carries the task, the dataset split and all ${count(inline.runs)} runs as Kiln stores them ` +
      `(${fixed(inline.requestBytes / MB)} MB of JSON); the train split (${count(s.lines)} lines, openai_chat_jsonl, final_only) comes back. ` +
      'TTFB covers upload + JSON parsing + schema validation + the check pass.')
    out.push('')
    out.push(table(['', 'wall s, median (min–max)', 'output MB/s', 'TTFB s', 'streaming s', 'peak RSS MiB', 'idle RSS MiB'], [
      ['kiln-export', secondsSpread(inline.measured.map((r) => r.totalMs)), fixed(mbps(s.bytes, s.wallMs)), seconds(s.ttfbMs), seconds(s.wallMs - s.ttfbMs), fixed(inline.peakRss / MIB), fixed(inline.idleRss / MIB)],
      ['ceiling, same body up + same bytes down', secondsSpread(inline.ceiling.roundTripMs ?? []), fixed(mbps(s.bytes, roundTrip)), '', '', '', ''],
      ['ceiling, same bytes down only', secondsSpread(inline.ceiling.totalMs), fixed(mbps(s.bytes, download)), '', '', '', '']
    ], ['l']))
    out.push('')
    out.push(`Ratios: end to end ${fixed((roundTrip / s.wallMs) * 100, 1)}% of the round-trip ceiling, ` +
      `${fixed((download / s.wallMs) * 100, 1)}% of the download-only ceiling; streaming phase alone ${fixed((download / (s.wallMs - s.ttfbMs)) * 100, 1)}% of the download-only ceiling.`)
    out.push('')
  }
  const conc = results.concurrent
  if (conc !== undefined) {
    const row = (rounds: ConcurrentResult['rounds'], name: string, rss: string): string[] => {
      const latencies = rounds.flatMap((r) => r.latenciesMs)
      const aggregate = median(rounds.map((r) => mbps(r.bytes, r.wallMs)))
      return [name, fixed(aggregate), secondsSpread(rounds.map((r) => r.wallMs)), seconds(percentile(latencies, 50)), seconds(percentile(latencies, 99)), String(latencies.length), rss]
    }
    out.push(`### ${conc.concurrency} concurrent exports of a ${count(conc.runs)}-run train split`)
    out.push('')
    out.push(table(['', 'aggregate MB/s (median round)', 'round wall s', 'p50 latency s', 'p99 latency s', 'requests', 'peak RSS MiB'], [
      row(conc.rounds, 'kiln-export', fixed(conc.peakRss / MIB)),
      row(conc.ceilingRounds, 'ceiling (same bytes from memory)', '')
    ], ['l']))
    out.push('')
  }
  const profile = results.profile
  if (profile !== undefined) {
    const total = profile.summary.totalUs
    const busy = profile.summary.categories.filter((c) => !c.name.startsWith('idle')).reduce((sum, c) => sum + c.us, 0)
    out.push(`### CPU profile: ${count(profile.runs)}-run mounted export, ${HEADLINE_FORMAT}`)
    out.push('')
    out.push(`\`node --cpu-prof\` on the server; the second of two exports (${seconds(profile.exportMs)} s) is analysed` +
      `${profile.summary.windowed ? '' : ' (could not align the window: whole process)'}: ${fixed(total / 1000, 0)} ms of main-thread samples, ` +
      `${fixed(busy / 1000, 0)} ms busy; the run-file worker thread was busy ${fixed((profile.workerBusyUs ?? 0) / 1000, 0)} ms in the same window. Self time by category (built-ins count for their caller, so JSON.stringify inside the dumper is "dump"). ` +
      `Profile file: \`${profile.file}\` (git-ignored; open it in Chrome DevTools).`)
    out.push('')
    out.push(table(['category', 'self ms', 'share'], profile.summary.categories.map((c) => [c.name, fixed(c.us / 1000, 0), `${fixed((c.us / total) * 100, 1)}%`]), ['l']))
    out.push('')
    out.push('Top self-time functions:')
    out.push('')
    out.push(table(['function', 'where', 'category', 'self ms', 'share'],
      profile.summary.functions.slice(0, 20).map((f) => [`\`${f.name}\``, f.where, f.category, fixed(f.us / 1000, 0), `${fixed((f.us / total) * 100, 1)}%`]), ['l', 'l', 'l']))
    out.push('')
  }
  const bd = results.breakdown
  if (bd !== undefined) {
    out.push(`### Breakdown: the pieces in isolation (${count(bd.runs)}-run project, ${count(bd.lines)}-line train split, no HTTP)`)
    out.push('')
    out.push(`\`bench/breakdown.ts\`, one process, ${bd.repeats} run(s) each (every step covers all ${count(bd.lines)} runs); ${fixed(bd.runBytes / MB)} MB of run files in, ${fixed(bd.outputChars / 1e6)} M characters of openai_chat_jsonl out.`)
    out.push('')
    out.push(table(['step', 'wall ms', 'per run µs', 'CPU ms (all threads)', 'note'],
      bd.steps.map((s) => [s.step, fixed(s.ms, 0), fixed((s.ms * 1000) / bd.lines, 1), s.cpuMs === undefined ? '= wall (synchronous)' : fixed(s.cpuMs, 0), s.note ?? '']), ['l', 'r', 'r', 'r', 'l']))
    out.push('')
  }
  const jobs = results.jobs
  if (jobs !== undefined) {
    out.push(`### Export jobs: a queue of ${count(jobs.runs)}-run exports drained by worker processes`)
    out.push('')
    if (jobs.skipped !== undefined) {
      out.push(`Skipped: ${jobs.skipped}.`)
    } else {
      out.push(`Each job exports the ${count(jobs.lines)}-line train split (${HEADLINE_FORMAT}, ${HEADLINE_STRATEGY}) with its own system message. ` +
        'Per round: a fresh Redis, one API server with EXPORT_WORKERS=false, the jobs queued, then the worker processes (`kiln-export worker`) started; ' +
        'wall time runs from their start (start-up included) to the last job done. Peak RSS is each worker\'s VmHWM.')
      out.push('')
      const one = jobs.rounds.find((r) => r.workers === 1)
      out.push(table(['workers', 'jobs', 'wall s', 'first done s', 'jobs/s', 'speed-up', 'worker peak RSS MiB', 'worker CPU s', 'API peak RSS MiB', 'results checked', 'load avg'],
        jobs.rounds.map((r) => [String(r.workers), String(r.jobs), seconds(r.wallMs), seconds(r.firstDoneMs), fixed(r.jobs / (r.wallMs / 1000), 2),
          one === undefined ? '' : `${fixed(one.wallMs / r.wallMs, 2)}×`, r.workerPeakRss.map((b) => fixed(b / MIB)).join(', '),
          r.workerCpuS.map((c) => fixed(c, 1)).join(', '), fixed(r.apiPeakRss / MIB), `${r.verified} of ${r.jobs}`, fixed(r.loadAvg, 1)])))
    }
    out.push('')
  }
  const proxy = results.proxy
  if (proxy !== undefined) {
    const { sync, job } = proxy
    out.push(`### Behind a proxy that closes connections idle for ${seconds(proxy.idleMs)} s: ${count(proxy.runs)}-run project`)
    out.push('')
    out.push(`A loopback proxy (\`bench/lib/idle-proxy.ts\`) closes a connection once no byte has passed either way for ${seconds(proxy.idleMs)} s, as an AWS ALB does after 60 s. ` +
      `Through it, the ${count(proxy.lines)}-line train split (${HEADLINE_FORMAT}, ${HEADLINE_STRATEGY}) by the sync route, then by an export job ` +
      `(in-process engine; POST, a poll every ${seconds(proxy.pollMs)} s, download, one connection per request). Connections cut by the proxy: ${proxy.cutBySync} during the sync export, ${proxy.cutByJob} during the job.`)
    out.push('')
    const syncOutcome = sync.outcome === 'completed'
      ? 'completed'
      : `${sync.outcome === 'cut' ? 'cut' : `HTTP ${String(sync.status)}`} after ${seconds(sync.afterMs)} s${sync.status === undefined ? ', no response' : ''}`
    out.push(table(['through the proxy', 'outcome', 'TTFB s', 'wall s', 'MB', 'lines', 'note'], [
      ['`POST /datasets/{id}/export`', syncOutcome, sync.ttfbMs === undefined ? '–' : seconds(sync.ttfbMs), seconds(sync.afterMs), fixed(sync.bytes / MB), count(sync.lines), sync.error ?? ''],
      ['export job', job.matches ? 'completed' : 'DIFFERS', seconds(job.postMs), seconds(job.wallMs), fixed(job.bytes / MB), count(job.lines),
        `POST ${seconds(job.postMs)} s; done after ${seconds(job.doneMs)} s (${job.polls} polls); download ${seconds(job.downloadMs)} s; SHA-256 ${job.matches ? 'equals' : 'differs from'} the manifest's (${job.sha256.slice(0, 12)}…)`]
    ], ['l', 'l', 'r', 'r', 'r', 'r', 'l']))
    out.push('')
  }
  return out.join('\n')
}

const TEMPLATE_HEAD = [
  '# Benchmarks',
  '',
  'How fast kiln-export turns a Kiln dataset split into provider JSONL, and how much memory it needs,',
  'measured by `npm run bench` (`bench/run.ts`) on synthetic Kiln projects written by',
  '`bench/generate-project.ts` in Kiln\'s exact on-disk layout (about 2.5 KB per run file; train 80% / test 20%;',
  'varied ASCII and non-ASCII text; some runs with reasoning or chain of thought, some repaired;',
  'structured JSON outputs). The bench is not part of `npm test`.',
  '',
  ''
].join('\n')

export async function writeReport (file: string, results: Results): Promise<void> {
  const generated = `${MARK_START}\n\n${renderResults(results)}\n\n${MARK_END}`
  let text = existsSync(file) ? await readFile(file, 'utf8') : ''
  const start = text.indexOf(MARK_START)
  const end = text.indexOf(MARK_END)
  if (start !== -1 && end > start) text = text.slice(0, start) + generated + text.slice(end + MARK_END.length)
  else text = TEMPLATE_HEAD + generated + '\n'
  await writeFile(file, text)
}
