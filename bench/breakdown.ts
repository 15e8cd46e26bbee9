/**
 * Where the time goes, measured piece by piece in one process with no HTTP: the run-file reads
 * (as KilnProjects does them, at several read concurrencies, and with plain sync/async reads),
 * JSON.parse, the schema check, line formatting, UTF-8 encoding, and prepareExport end to end
 * (two passes, and with a buffer large enough to skip the second pass).
 *
 * Run by bench/run.ts in a child process: `node --import tsx bench/breakdown.ts --project DIR [--runs 3]`;
 * prints one JSON object on stdout.
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, createReadStream, openSync, readFileSync, readSync, readdirSync, writeSync } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Ajv } from 'ajv'
import { prepareExport } from '../src/export/prepare-export.js'
import { createLineFormatter, type DatasetFormat, type TaskRunData } from '../src/format/index.js'
import { KilnProjects } from '../src/source/mounted/kiln-projects.js'
import { TaskRunSchema } from '../src/source/kiln/index.js'
import { DATA_DIR, type ProjectMeta } from './generate-project.js'
import { median } from './lib/stats.js'

export interface BreakdownStep {
  readonly step: string
  /** Wall time. */
  readonly ms: number
  /** Process CPU time (all threads: main, thread pool, GC); absent for the synchronous pieces, where it equals wall time. */
  readonly cpuMs?: number
  readonly note?: string
}

interface Timing {
  readonly ms: number
  readonly cpuMs: number
}

export interface BreakdownResult {
  readonly lines: number
  readonly runBytes: number
  readonly outputChars: number
  readonly steps: readonly BreakdownStep[]
}

async function timeIt (repeats: number, work: () => Promise<unknown> | unknown): Promise<Timing> {
  const times: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < repeats; i++) {
    const started = performance.now()
    const usage = process.cpuUsage()
    await work()
    const spent = process.cpuUsage(usage)
    times.push(performance.now() - started)
    cpu.push((spent.user + spent.system) / 1000)
  }
  return { ms: median(times), cpuMs: median(cpu) }
}

async function pool<T> (items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T)
  }))
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { project: { type: 'string' }, runs: { type: 'string', default: '3' } } })
  if (values.project === undefined) throw new Error('--project DIR is required')
  const repeats = Number(values.runs)
  const meta = JSON.parse(readFileSync(join(values.project, 'bench-meta.json'), 'utf8')) as ProjectMeta
  const runsDir = join(meta.taskDir, 'runs')
  const source = await new KilnProjects(meta.projectsDir).find(meta.datasetId)
  if (source === undefined) throw new Error(`dataset ${meta.datasetId} not found under ${meta.projectsDir}`)
  const ids = [...(source.split.split_contents.train ?? [])]
  const paths = ids.map((id) => join(runsDir, id, 'task_run.kiln'))
  const steps: BreakdownStep[] = []
  const add = (step: string, timing: number | Timing, note?: string): void => {
    const { ms, cpuMs } = typeof timing === 'number' ? { ms: timing, cpuMs: undefined } : timing
    steps.push({ step, ms, ...(cpuMs === undefined ? {} : { cpuMs }), ...(note === undefined ? {} : { note }) })
    process.stderr.write(`  ${step}: ${ms.toFixed(0)} ms${cpuMs === undefined ? '' : ` (CPU ${cpuMs.toFixed(0)} ms)`}\n`)
  }

  // The read pass exactly as the server does it: one listing of runs/, then open(O_NOFOLLOW) +
  // read + close on the reader's worker thread, JSON.parse and the ajv check here, in batches of
  // `concurrency` runs (four batches read ahead).
  for (const concurrency of [16, 64, 256]) {
    const projects = new KilnProjects(meta.projectsDir, { batchSize: concurrency })
    const found = await projects.find(meta.datasetId)
    if (found === undefined) throw new Error('dataset vanished')
    const ms = await timeIt(repeats, async () => {
      for await (const batch of found.runs(ids)) if (batch.length === 0) throw new Error('empty batch')
    })
    add(`read pass as KilnProjects does it (worker: open + read + close; here: JSON.parse, ajv), batches of ${concurrency}`, ms,
      concurrency === 64 ? 'the default; an export does this twice (check pass, stream pass)' : undefined)
  }
  add('fs.promises.readFile(path, "utf8"), sliding pool of 64, text only', await timeIt(repeats, async () => {
    await pool(paths, 64, async (path) => { await readFile(path, 'utf8') })
  }))
  add('readFileSync(path, "utf8"), one after another, text only', await timeIt(repeats, () => {
    let chars = 0
    for (const path of paths) chars += readFileSync(path, 'utf8').length
    return chars
  }))

  // One streaming pass, every piece timed on its own (nothing retained, so no GC artefacts from
  // holding 80k parsed runs). The read is the leanest safe one: a single readdir of runs/ replaces
  // the per-run lstat (a link is not a directory there), then open(O_NOFOLLOW) + read into a reused
  // buffer + close: three syscalls a run, no thread-pool round trips.
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const readLean = (path: string): string => {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      let length = 0
      for (;;) {
        const n = readSync(fd, buffer, length, buffer.length - length, null)
        if (n === 0) break
        length += n
        if (length === buffer.length) throw new Error('run file larger than the test buffer')
      }
      return buffer.toString('utf8', 0, length)
    } finally {
      closeSync(fd)
    }
  }
  const isTaskRun = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false }).compile(TaskRunSchema)
  const variants: Array<{ label: string, format: DatasetFormat, dataStrategy: 'final_only' | 'final_and_intermediate' }> = [
    { label: 'openai_chat_jsonl, final_only', format: 'openai_chat_jsonl', dataStrategy: 'final_only' },
    { label: 'openai_chat_jsonl, final_and_intermediate', format: 'openai_chat_jsonl', dataStrategy: 'final_and_intermediate' },
    { label: 'openai_chat_json_schema_jsonl, final_only', format: 'openai_chat_json_schema_jsonl', dataStrategy: 'final_only' },
    { label: 'huggingface_chat_template_toolcall_jsonl, final_only', format: 'huggingface_chat_template_toolcall_jsonl', dataStrategy: 'final_only' },
    { label: 'vertex_gemini_1_5, final_only', format: 'vertex_gemini_1_5', dataStrategy: 'final_only' }
  ]
  const formatters = variants.map((v) => createLineFormatter({
    format: v.format,
    dataStrategy: v.dataStrategy,
    systemMessage: meta.systemMessage,
    thinkingInstructions: v.dataStrategy === 'final_and_intermediate' ? meta.thinkingInstructions : null
  }))
  const timers = new Map<string, number>()
  const tick = (key: string, since: number): number => {
    const now = performance.now()
    timers.set(key, (timers.get(key) ?? 0) + now - since)
    return now
  }
  let runBytes = 0
  let outputChars = 0
  let chunk = ''
  const hashString = createHash('sha256')
  const hashBuffer = createHash('sha256')
  let newlines = 0
  // Spool: the checked output written to a temporary file, to be streamed back instead of a second read pass.
  const spoolDir = join(DATA_DIR, 'out')
  await mkdir(spoolDir, { recursive: true })
  const spoolFile = join(spoolDir, `spool-${process.pid}.jsonl`)
  const spool = openSync(spoolFile, 'w')
  // Alternative encoding: each line written into a reused 64 KiB buffer as it is made (no rope of a whole chunk).
  const lineBuffer = Buffer.allocUnsafe(256 * 1024)
  let lineBufferUsed = 0
  let perLineBytes = 0
  const encodeLine = (line: string): void => {
    const t0 = performance.now()
    if (lineBufferUsed + line.length * 3 > lineBuffer.length) {
      perLineBytes += lineBufferUsed
      lineBufferUsed = 0
    }
    lineBufferUsed += lineBuffer.write(line, lineBufferUsed, 'utf8')
    tick('encodePerLine', t0)
  }
  const flush = (): void => {
    let t = performance.now()
    const bytes = Buffer.from(chunk, 'utf8')
    t = tick('encode', t)
    writeSync(spool, bytes)
    t = tick('spoolWrite', t)
    hashString.update(chunk, 'utf8')
    t = tick('hashString', t)
    hashBuffer.update(bytes)
    t = tick('hashBuffer', t)
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) newlines++
    tick('count', t)
    chunk = ''
  }
  let t = performance.now()
  const folders = new Set(readdirSync(runsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name))
  t = tick('readdir', t)
  for (let i = 0; i < ids.length; i++) {
    t = performance.now()
    if (!folders.has(ids[i] as string)) throw new Error('missing run')
    const text = readLean(paths[i] as string)
    t = tick('read', t)
    runBytes += Buffer.byteLength(text)
    const run = JSON.parse(text) as unknown
    t = tick('parse', t)
    if (!isTaskRun(run)) throw new Error('invalid run')
    t = tick('check', t)
    for (let v = 0; v < formatters.length; v++) {
      const line = (formatters[v] as (r: TaskRunData) => string)(run as TaskRunData)
      t = tick(`format${v}`, t)
      if (v === 0) {
        encodeLine(line)
        t = performance.now()
        outputChars += line.length
        chunk += line
        if (chunk.length >= 65536) flush()
      }
    }
  }
  if (chunk.length > 0) flush()
  perLineBytes += lineBufferUsed
  closeSync(spool)
  if (newlines !== ids.length) throw new Error('line count mismatch')
  t = performance.now()
  let spooled = 0
  for await (const piece of createReadStream(spoolFile, { highWaterMark: 64 * 1024 })) spooled += (piece as Buffer).length
  tick('spoolRead', t)
  await rm(spoolFile, { force: true })
  const ms = (key: string): number => timers.get(key) ?? 0
  add('one readdir of runs/ (replaces one lstat per run)', ms('readdir'))
  add('read: openSync(O_NOFOLLOW) + readSync + closeSync, sequential', ms('read'), 'vs the read pass above: same safety, no thread pool')
  add('JSON.parse of the run file', ms('parse'))
  add('ajv TaskRun check', ms('check'))
  variants.forEach((v, i) => { add(`format: ${v.label} (training data + shape + Python-JSON dump)`, ms(`format${i}`)) })
  add('flatten + UTF-8 encode the output, 64 Ki-char chunks (Buffer.from, as the socket write does)', ms('encode'), 'lines are concatenation ropes; flattening them is most of this')
  add('UTF-8 encode line by line into a reused buffer instead (buf.write(line) as each line is made)', ms('encodePerLine'), `${(perLineBytes / 1e6).toFixed(1)} MB`)
  add('SHA-256 trailer as now: hash.update(chunk string, "utf8") (encodes the chunk a second time)', ms('hashString'))
  add('SHA-256 of the already-encoded Buffer instead', ms('hashBuffer'))
  add('line-count trailer: indexOf("\\n") over every chunk', ms('count'))
  add('spool the encoded output to a temporary file (writeSync of 64 KiB-ish chunks)', ms('spoolWrite'), 'instead of the second read pass: check pass writes here')
  add('stream the spool back (createReadStream, 64 KiB chunks)', ms('spoolRead'), `${(spooled / 1e6).toFixed(1)} MB; the streaming pass would read this`)
  add('sync lean read pass total: readdir + read + JSON.parse + ajv (compare with the read pass above)', ms('readdir') + ms('read') + ms('parse') + ms('check'))

  const params = { splitName: 'train', format: 'openai_chat_jsonl', dataStrategy: 'final_only', systemMessage: meta.systemMessage, thinkingInstructions: null } as const
  add('prepareExport end to end, no HTTP: check pass + stream pass (default line buffer)', await timeIt(repeats, async () => {
    const prepared = await prepareExport(source, params)
    for await (const chunk of prepared.chunks) if (chunk.length === 0) throw new Error('empty chunk')
  }))
  add('prepareExport with an unbounded buffer (one pass, whole output held in memory)', await timeIt(repeats, async () => {
    const prepared = await prepareExport(source, params, { bufferBytes: Number.POSITIVE_INFINITY })
    for await (const chunk of prepared.chunks) if (chunk.length === 0) throw new Error('empty chunk')
  }), 'evidence for the cost of the second pass; not a recommendation to buffer everything')
  const result: BreakdownResult = { lines: ids.length, runBytes, outputChars, steps }
  process.stdout.write(JSON.stringify(result) + '\n')
}

await main()
