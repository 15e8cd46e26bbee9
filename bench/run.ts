/**
 * `npm run bench`: benchmark the real kiln-export server on synthetic Kiln projects.
 *
 * Scenarios (each on a fresh server process where peak RSS matters):
 * - mounted: export of the train split (80% of N runs) from a mounted project, per size; at the
 *   formats size (100k by default) all six formats x both data strategies;
 * - inline: one request carrying 10k runs (upload + validation + streaming);
 * - concurrent: 16 simultaneous exports of a 10k project's train split;
 * - ceiling: the same output bytes, pre-built in memory, streamed by a trivial Fastify server to the
 *   same client (bench/ceiling-server.ts); our throughput is reported as a ratio of it;
 * - profile: one --cpu-prof profile of the 100k mounted openai_chat_jsonl export, summarised by category;
 * - breakdown: the pieces of an export timed in isolation (bench/breakdown.ts);
 * - kiln: with KILN_CORE set (Kiln's libs/core; KILN_PYTHON, default python3), Kiln's own
 *   dump_to_file on the same split in the same run, bytes compared (bench/lib/kiln.ts);
 * - jobs (only with --only jobs): a queue of export jobs (100k runs each) drained by one worker
 *   process and by two, with a Redis and an API server (bench/lib/jobs.ts); skipped, saying so,
 *   where the server has no job API.
 * - proxy (only with --only proxy): a loopback proxy closing connections idle for --proxy-idle-ms
 *   (60 s, as an AWS ALB) in front of a server on the --proxy-at project (1M runs): the sync export
 *   through it (completed or cut), then an export job through it (POST, polls, download, SHA-256
 *   checked) (bench/lib/proxy.ts); --quick: 2k runs and 200 ms, where the sync export may or may not be cut.
 *
 * Flags: --quick (2k runs, 1 run each, for smoke tests), --full (adds 1M runs), --runs N, --warmup N,
 * --sizes 10000,100000, --formats-at 100000, --only mounted,formats,inline,concurrent,profile,breakdown,kiln,jobs,proxy,
 * --jobs K (8; --quick 4), --jobs-at RUNS (100000), --job-workers 1,2,
 * --proxy-idle-ms MS (60000; --quick 200), --proxy-at RUNS (1000000; --quick 2000),
 * --server dist|tsx, --out FILE, --from-json FILE (re-render a saved result).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { FORMATS as FORMAT_FACTS } from '../src/format/index.js'
import { ensureProject, type ProjectMeta } from './generate-project.js'
import { agent } from './lib/client.js'
import { log } from './lib/measure.js'
import { FORMATS, HEADLINE_FORMAT, HEADLINE_STRATEGY, OUT_DIR, RESULTS_DIR, STRATEGIES, parseOptions, type Format, type Strategy } from './lib/options.js'
import { kilnCore, kilnSideBySide } from './lib/kiln.js'
import { buildServer, startCeilingServer } from './lib/processes.js'
import { proxyScenario } from './lib/proxy.js'
import { renderResults, writeReport } from './lib/report.js'
import { machineInfo, type Results } from './lib/results.js'
import { breakdown, concurrentExports, exportJobs, inlineExport, mountedExport, profileExport } from './lib/scenarios.js'
import { count, median } from './lib/stats.js'

// bench/lib: options.ts (flags), scenarios.ts (what is run), measure.ts (timing), processes.ts
// (the servers), results.ts (what is kept), report.ts (the tables of BENCHMARKS.md).

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  if (options.fromJson !== undefined) {
    const results = JSON.parse(await readFile(options.fromJson, 'utf8')) as Results
    await writeReport(options.out, results)
    process.stdout.write(renderResults(results) + '\n')
    log(`wrote ${relative(process.cwd(), options.out)}`)
    return
  }
  const started = performance.now()
  await mkdir(OUT_DIR, { recursive: true })
  await mkdir(RESULTS_DIR, { recursive: true })
  if (options.server === 'dist') {
    log('compiling src/ ...')
    log(`  server: node ${await buildServer()}/server.js`)
  }
  const projects = new Map<number, ProjectMeta>()
  const project = async (runs: number): Promise<ProjectMeta> => {
    const known = projects.get(runs)
    if (known !== undefined) return known
    const meta = await ensureProject(runs, log)
    projects.set(runs, meta)
    return meta
  }
  const results: Results = {
    machine: machineInfo(),
    command: ['npm run bench', ...(options.argv.length > 0 ? ['--', ...options.argv] : [])].join(' '),
    server: options.server,
    serverTweaks: [...options.nodeArgs, ...Object.entries(options.serverEnv).map(([k, v]) => `${k}=${v}`)].join(' '),
    runs: options.runs,
    warmup: options.warmup,
    largeRuns: options.largeRuns,
    projects: [],
    mounted: [],
    wallSeconds: 0
  }
  const ceiling = await startCeilingServer()
  try {
    for (const size of options.sizes) {
      const meta = await project(size)
      const all = options.only.has('formats') && options.formatsAt.includes(size)
      if (!all && !options.only.has('mounted')) continue
      log(`\n== ${count(size)} runs: mounted exports`)
      const combos: Array<[Format, Strategy]> = all
        // Every SFT format (one line per run) with each bench strategy it takes; preference pairs are not measured here.
        ? FORMATS.filter((format) => FORMAT_FACTS[format].kind === 'sft').flatMap((format) => STRATEGIES.filter((strategy) => FORMAT_FACTS[format].strategies.includes(strategy)).map((strategy): [Format, Strategy] => [format, strategy]))
        : [[HEADLINE_FORMAT, HEADLINE_STRATEGY]]
      for (const [format, strategy] of combos) results.mounted.push(await mountedExport(options, ceiling, meta, format, strategy))
    }
    // Kiln side by side (KILN_CORE): up to 100k runs; at 1M Kiln would need about 23 GiB.
    if (options.only.has('kiln') && kilnCore() !== undefined) {
      for (const size of options.sizes.filter((n) => n <= 100_000)) {
        log(`\n== ${count(size)} runs: Kiln side by side`)
        const ours = results.mounted.find((m) => m.runs === size && m.format === HEADLINE_FORMAT && m.strategy === HEADLINE_STRATEGY)
        const medianMs = ours === undefined ? undefined : median(ours.measured.map((r) => r.totalMs))
        ;(results.kiln ??= []).push(await kilnSideBySide(options, await project(size), medianMs))
      }
    }
    if (options.only.has('inline')) {
      log('\n== inline export')
      results.inline = await inlineExport(options, ceiling, await project(options.inlineRuns))
    }
    if (options.only.has('concurrent')) {
      log('\n== concurrent exports')
      results.concurrent = await concurrentExports(options, ceiling, await project(options.concurrentRuns))
    }
  } finally {
    await ceiling.stop()
  }
  if (options.only.has('profile')) {
    log('\n== CPU profile')
    results.profile = await profileExport(options, await project(options.profileAt))
  }
  if (options.only.has('breakdown')) {
    log('\n== breakdown')
    results.breakdown = await breakdown(options, await project(options.profileAt))
  }
  if (options.only.has('jobs')) {
    log('\n== export jobs')
    results.jobs = await exportJobs(options, await project(options.jobsAt))
  }
  if (options.only.has('proxy')) {
    log('\n== behind an idle-closing proxy')
    results.proxy = await proxyScenario(options, await project(options.proxyAt))
  }
  await agent.close()
  const final: Results = { ...results, projects: [...projects.values()].sort((a, b) => a.runs - b.runs), wallSeconds: (performance.now() - started) / 1000 }
  const resultsFile = join(RESULTS_DIR, `${final.machine.date.replace(/[:]/g, '-')}${options.quick ? '-quick' : ''}.json`)
  await writeFile(resultsFile, JSON.stringify(final, null, 2) + '\n')
  await writeReport(options.out, final)
  process.stdout.write('\n' + renderResults(final) + '\n\n')
  log(`results: ${relative(process.cwd(), resultsFile)}; report: ${relative(process.cwd(), options.out)}`)
}

await main()
