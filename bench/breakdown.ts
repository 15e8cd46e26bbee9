/**
 * Where the time goes, measured piece by piece in one process with no HTTP: the run-file reads
 * (as KilnProjects does them, at several read concurrencies, and with plain sync/async reads),
 * JSON.parse, the schema check, line formatting, UTF-8 encoding, and prepareExport end to end
 * (two passes, and with a buffer large enough to skip the second pass).
 *
 * Run by bench/run.ts in a child process: `node --import tsx bench/breakdown.ts --project DIR [--runs 3]`;
 * prints one JSON object on stdout.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Ajv } from 'ajv'
import { prepareExport } from '../src/export/prepare-export.js'
import { createLineFormatter, type DatasetFormat, type TaskRunData } from '../src/format/index.js'
import { KilnProjects } from '../src/source/kiln-project.js'
import { TaskRunSchema } from '../src/source/kiln-schemas.js'
import { type ProjectMeta } from './generate-project.js'
import { median } from './lib/stats.js'

export interface BreakdownStep {
  readonly step: string
  readonly ms: number
  readonly note?: string
}

export interface BreakdownResult {
  readonly lines: number
  readonly runBytes: number
  readonly outputChars: number
  readonly steps: readonly BreakdownStep[]
}

async function timeIt (repeats: number, work: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < repeats; i++) {
    const started = performance.now()
    await work()
    times.push(performance.now() - started)
  }
  return median(times)
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
  const ids = source.split.split_contents.train ?? []
  const paths = ids.map((id) => join(runsDir, id, 'task_run.kiln'))
  const steps: BreakdownStep[] = []
  const add = (step: string, ms: number, note?: string): void => {
    steps.push(note === undefined ? { step, ms } : { step, ms, note })
    process.stderr.write(`  ${step}: ${ms.toFixed(0)} ms\n`)
  }

  // The read pass exactly as the server does it: lstat + open(O_NOFOLLOW) + readFile + close,
  // JSON.parse and the ajv check, in batches of `concurrency` (the next batch prefetched).
  for (const concurrency of [8, 32, 128, 512]) {
    const projects = new KilnProjects(meta.projectsDir, concurrency)
    const found = await projects.find(meta.datasetId)
    if (found === undefined) throw new Error('dataset vanished')
    const ms = await timeIt(repeats, async () => {
      for await (const batch of found.runs(ids)) if (batch.length === 0) throw new Error('empty batch')
    })
    add(`read pass as KilnProjects does it (lstat+open+read+close+parse+check), concurrency ${concurrency}`, ms,
      concurrency === 32 ? 'the default; each export does this twice' : undefined)
  }
  add('fs.promises.readFile(path, "utf8"), sliding pool of 64, text only', await timeIt(repeats, async () => {
    await pool(paths, 64, async (path) => { await readFile(path, 'utf8') })
  }))
  let texts: string[] = []
  add('readFileSync(path, "utf8"), one after another, text only', await timeIt(repeats, () => {
    texts = paths.map((path) => readFileSync(path, 'utf8'))
  }))
  const runBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0)
  let parsed: unknown[] = []
  add('JSON.parse of every run file', await timeIt(repeats, () => { parsed = texts.map((text) => JSON.parse(text) as unknown) }))
  const isTaskRun = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false }).compile(TaskRunSchema)
  add('ajv TaskRun check of every parsed run', await timeIt(repeats, () => {
    for (const run of parsed) if (!isTaskRun(run)) throw new Error('invalid run')
  }))
  const runs = parsed as TaskRunData[]
  let outputChars = 0
  const formats: DatasetFormat[] = ['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'huggingface_chat_template_toolcall_jsonl', 'vertex_gemini_1_5']
  let lines: string[] = []
  for (const format of formats) {
    const formatLine = createLineFormatter({ format, dataStrategy: 'final_only', systemMessage: meta.systemMessage, thinkingInstructions: null })
    const ms = await timeIt(repeats, () => { lines = runs.map(formatLine) })
    if (format === 'openai_chat_jsonl') outputChars = lines.reduce((sum, line) => sum + line.length, 0)
    add(`format every run: ${format}, final_only (build + Python-JSON dump)`, ms)
  }
  const formatLine = createLineFormatter({ format: 'openai_chat_jsonl', dataStrategy: 'final_only', systemMessage: meta.systemMessage, thinkingInstructions: null })
  lines = runs.map(formatLine)
  add('UTF-8 encode the output (Buffer.from of 64 KiB-char chunks)', await timeIt(repeats, () => {
    let chunk = ''
    let bytes = 0
    for (const line of lines) {
      chunk += line
      if (chunk.length >= 65536) {
        bytes += Buffer.from(chunk, 'utf8').length
        chunk = ''
      }
    }
    return bytes + Buffer.from(chunk, 'utf8').length
  }))
  lines = []
  texts = []
  parsed = []

  const params = { splitName: 'train', format: 'openai_chat_jsonl', dataStrategy: 'final_only', systemMessage: meta.systemMessage, thinkingInstructions: null } as const
  add('prepareExport end to end, no HTTP: check pass + stream pass (default 8 Mi-char buffer)', await timeIt(repeats, async () => {
    const prepared = await prepareExport(source, params)
    for await (const chunk of prepared.chunks) if (chunk.length === 0) throw new Error('empty chunk')
  }))
  add('prepareExport with an unbounded buffer (one pass, whole output held in memory)', await timeIt(repeats, async () => {
    const prepared = await prepareExport(source, params, { bufferChars: Number.POSITIVE_INFINITY })
    for await (const chunk of prepared.chunks) if (chunk.length === 0) throw new Error('empty chunk')
  }), 'evidence for the cost of the second pass; not a recommendation to buffer everything')
  const result: BreakdownResult = { lines: ids.length, runBytes, outputChars, steps }
  process.stdout.write(JSON.stringify(result) + '\n')
}

await main()
