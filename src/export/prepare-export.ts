import {
  FormatError,
  splitNotFoundError,
  createLineChecker,
  createLineFormatter,
  exportFileName,
  type DataStrategy,
  type DatasetFormat,
  type FormatErrorCode
} from '../format/index.js'
import { type DatasetSource } from '../source/types.js'
import { LineEncoder } from './line-encoder.js'
import { ToolSetCheck, checkRun, missingRunsMessage, type RunProblem } from './run-check.js'

export { type RunProblem } from './run-check.js'

/** The per-request export parameters (Kiln's `dump_to_file` arguments plus the formatter's). */
export interface ExportParams {
  readonly splitName: string
  readonly format: DatasetFormat
  /** The format name as requested (an alias keeps its name in the file name); defaults to `format`. */
  readonly formatName?: string
  readonly dataStrategy: DataStrategy
  readonly systemMessage: string
  readonly thinkingInstructions: string | null
  readonly includeToolCalls?: boolean
  readonly tools?: readonly unknown[] | null
}

/** Tuning knobs; the defaults suit the service. */
export interface PrepareOptions {
  /** Encoded lines kept from the checking pass so small exports are formatted once (bytes). */
  readonly bufferBytes?: number
  /** Size of the chunks handed to the socket (bytes; a longer line is a chunk of its own). */
  readonly chunkBytes?: number
  /** Aborts both passes when the client goes away. */
  readonly signal?: AbortSignal
  /** Injected HF tool-call id generator (tests). */
  readonly randomToolCallId?: () => string
  /** Hears, after each batch of the check pass, how many of the split's runs were checked (export jobs report it). */
  readonly onChecked?: (runsChecked: number, runsTotal: number) => void
}

/** The size knobs of PrepareOptions, set once per app. */
export type ExportTuning = Pick<PrepareOptions, 'bufferBytes' | 'chunkBytes'>

/** An export that passed every check: nothing left can fail but I/O. */
export interface PreparedExport {
  readonly fileName: string
  readonly lineCount: number
  /** The UTF-8 JSONL body in chunks of whole lines, produced on demand (backpressure-friendly). */
  readonly chunks: AsyncIterable<Buffer>
}

const MAX_PROBLEMS = 100
const MAX_RUN_IDS = 1000
/** Per-run messages in `problems` are cut here so a report of 100 runs stays small. */
const MAX_PROBLEM_MESSAGE = 1000

/**
 * Data that Kiln's formatter would reject (or that we refuse on purpose), found before any byte
 * was sent. `code` and `message` are the first problem's in split order, as Kiln would raise it;
 * `runIds` lists every offending run.
 */
export class ExportDataError extends Error {
  override readonly name = 'ExportDataError'

  constructor (
    readonly code: FormatErrorCode,
    message: string,
    readonly runIds: readonly string[],
    readonly problems: readonly RunProblem[]
  ) {
    super(message)
  }
}

/**
 * Check a whole export, then hand back a lazy body. Unlike Kiln, which fails on the k-th run after
 * writing k-1 lines, every data error is found here, before the first byte: the first pass formats
 * every run (keeping the first lines, up to `bufferBytes`), the second streams them and formats the
 * rest again, so memory stays bounded whatever the split's size.
 */
export async function prepareExport (
  source: DatasetSource,
  params: ExportParams,
  options: PrepareOptions = {}
): Promise<PreparedExport> {
  const { split } = source
  if (!Object.hasOwn(split.split_contents, params.splitName)) {
    throw splitNotFoundError(split, params.splitName)
  }
  const ids = split.split_contents[params.splitName] ?? []
  // Small exports are formatted once; larger ones are formatted again while streaming, so the
  // memory an export holds stays small even with several running at once.
  const bufferBytes = options.bufferBytes ?? 1024 * 1024
  const encoder = new LineEncoder(options.chunkBytes ?? 64 * 1024)
  const { signal } = options
  // A strategy the format does not take is refused here, before any run is read; Kiln's own refusals are per run.
  const formatLine = createLineFormatter({ ...params, randomToolCallId: options.randomToolCallId })
  // Past the buffered lines the check pass only needs to know each line can be written.
  const checkLine = createLineChecker({ ...params, randomToolCallId: options.randomToolCallId })

  const problems: RunProblem[] = []
  const badIds = new Set<string>()
  const missingIds: string[] = []
  let first: RunProblem | undefined
  // The first lines, already encoded: whole chunks, plus the encoder's partial one.
  const buffered: Buffer[] = []
  let bufferedBytes = 0
  let bufferedCount = 0
  let buffering = true
  const note = (problem: RunProblem): void => {
    first ??= problem
    // The export will be refused: stop keeping (and formatting) lines.
    buffering = false
    if (problems.length < MAX_PROBLEMS) {
      const { message } = problem
      problems.push(message.length <= MAX_PROBLEM_MESSAGE ? problem : { ...problem, message: `${message.slice(0, MAX_PROBLEM_MESSAGE)}…` })
    }
    if (badIds.size < MAX_RUN_IDS) badIds.add(problem.runId)
    if (problem.code === 'TASK_RUN_NOT_FOUND') missingIds.push(problem.runId)
  }

  // Lines take their tools from the runs unless the request sends them: then one set for all.
  const toolSets = params.tools == null ? new ToolSetCheck() : undefined
  let checkedCount = 0
  for await (const batch of source.runs(ids, signal)) {
    for (const lookup of batch) {
      if (toolSets !== undefined && lookup.status === 'found') toolSets.add(lookup.run)
      const checked = checkRun(lookup, buffering ? formatLine : checkLine)
      if (!checked.ok) {
        note(checked.problem)
        continue
      }
      if (buffering) {
        for (const chunk of encoder.add(checked.line)) {
          buffered.push(chunk)
          bufferedBytes += chunk.length
        }
        bufferedCount++
        buffering = bufferedBytes + encoder.pendingBytes < bufferBytes
      }
    }
    checkedCount += batch.length
    options.onChecked?.(checkedCount, ids.length)
  }
  signal?.throwIfAborted()

  // Kiln's app refuses mixed tool sets before it formats anything, so this comes first.
  const mixed = toolSets?.problem
  if (mixed !== undefined) {
    if (problems.length >= MAX_PROBLEMS) problems.pop()
    throw new ExportDataError(mixed.code, mixed.message, [mixed.runId, ...[...badIds].filter((id) => id !== mixed.runId)], [mixed, ...problems])
  }
  if (first !== undefined) {
    const message = first.code === 'TASK_RUN_NOT_FOUND' ? missingRunsMessage(missingIds) : first.message
    throw new ExportDataError(first.code, message, [...badIds], problems)
  }

  async function * chunks (): AsyncIterable<Buffer> {
    yield * buffered.splice(0)
    const rest = ids.slice(bufferedCount)
    if (rest.length > 0) {
      for await (const batch of source.runs(rest, signal)) {
        for (const lookup of batch) {
          // The data changed since the check (mounted projects): fail loudly, never truncate quietly.
          if (lookup.status !== 'found') {
            throw new FormatError(lookup.status === 'missing' ? 'TASK_RUN_NOT_FOUND' : 'TASK_RUN_INVALID',
              `Task run ${lookup.id} changed during the export`, lookup.id)
          }
          yield * encoder.add(formatLine(lookup.run))
        }
      }
      signal?.throwIfAborted()
    }
    const last = encoder.flush()
    if (last !== undefined) yield last
  }

  return {
    fileName: exportFileName(split.name, params.splitName, params.formatName ?? params.format, params.dataStrategy),
    lineCount: ids.length,
    chunks: chunks()
  }
}
