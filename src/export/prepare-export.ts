import {
  FormatError,
  splitNotFoundError,
  createLineChecker,
  createLineFormatter,
  checkExportOptions,
  exportFileName,
  isPreferenceFormat,
  type PairBy,
  type DataStrategy,
  type DatasetFormat,
  type FormatErrorCode
} from '../format/index.js'
import { type DatasetSource } from '../source/types.js'
import { ChunkPool } from './chunk-pool.js'
import { LineEncoder } from './line-encoder.js'
import { preparePreferenceExport } from './prepare-preference.js'
import { Spool, type SpoolOptions } from './spool.js'
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
  /** Preference formats: how runs are paired (default `repair`); refused with the other formats. */
  readonly pairBy?: PairBy
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
  /** A private spool file for the lines past `bufferBytes` (spool.ts); without it, two passes. */
  readonly spool?: SpoolOptions
  /** Hears, after each batch of the check pass, how many of the split's runs were checked (export jobs report it). */
  readonly onChecked?: (runsChecked: number, runsTotal: number) => void
}

/** The size knobs of PrepareOptions, set once per app. */
export type ExportTuning = Pick<PrepareOptions, 'bufferBytes' | 'chunkBytes' | 'spool'>

/** An export that passed every check: nothing left can fail but I/O. */
export interface PreparedExport {
  readonly fileName: string
  readonly lineCount: number
  /** Preference formats: the runs that make no pair (X-Export-Skipped-Run-Count); undefined for the others. */
  readonly skippedRuns?: number
  /** The UTF-8 JSONL body in chunks of whole lines, produced on demand (backpressure-friendly). */
  readonly chunks: AsyncIterable<Buffer>
  /**
   * The buffers `chunks` are made in. A consumer that can tell when bytes have left the process
   * reports it (handedOn, settledUpTo) and the buffers are reused; one that cannot ignores it.
   */
  readonly pool?: ChunkPool
}

const MAX_PROBLEMS = 100
/** Encoded lines waiting for the spool file's writes, at most (then the check pass waits). */
const MAX_SPOOL_QUEUE_BYTES = 1024 * 1024
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
 * writing k-1 lines, every data error is found here, before the first byte. The check pass formats
 * every run once: the first lines (up to `bufferBytes`) are kept in memory, the rest go to the
 * export's private spool file (spool.ts) while it has room; the body streams them back. Runs the
 * spool could not take (SPOOL_MAX_BYTES, a full disk, no spool) are only checked, then read and
 * formatted again while streaming. Either way memory stays bounded whatever the split's size, and
 * the bytes are the same.
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
  checkExportOptions(params)
  const { format } = params
  if (isPreferenceFormat(format)) {
    const fileName = exportFileName(split.name, params.splitName, params.formatName ?? format, params.dataStrategy, params.pairBy)
    return preparePreferenceExport(source, { ...params, format }, ids, fileName, options)
  }
  // Small exports are formatted once; larger ones are formatted again while streaming, so the
  // memory an export holds stays small even with several running at once.
  const bufferBytes = options.bufferBytes ?? 1024 * 1024
  const pool = new ChunkPool(options.chunkBytes ?? 64 * 1024)
  const encoder = new LineEncoder(pool.chunkBytes, pool)
  const { signal } = options
  // A strategy the format does not take is refused here, before any run is read; Kiln's own refusals are per run.
  const formatLine = createLineFormatter({ ...params, randomToolCallId: options.randomToolCallId })
  // Past the buffered lines the check pass only needs to know each line can be written.
  const checkLine = createLineChecker({ ...params, randomToolCallId: options.randomToolCallId })

  const problems: RunProblem[] = []
  const badIds = new Set<string>()
  const missingIds: string[] = []
  let first: RunProblem | undefined
  // Where the check pass puts each encoded chunk (whole lines): memory up to bufferBytes, then the
  // spool while it has room, then one last chunk in memory (`tail`); after that it only checks.
  let phase = 'buffer' as 'buffer' | 'spool' | 'check'
  const buffered: Buffer[] = []
  let bufferedBytes = 0
  let bufferedLines = 0
  const tail: Buffer[] = []
  let formattedCount = 0
  // Lines the spool took; after its writes settle it may hold fewer (a write failed).
  let spooledLines = 0
  // Made before the first run is read (an open and an unlink), so no batch waits for it.
  const spool = options.spool === undefined ? undefined : await Spool.create(options.spool, pool)
  const closeSpool = (): void => { spool?.close().catch(() => {}) }
  signal?.addEventListener('abort', closeSpool, { once: true })
  const note = (problem: RunProblem): void => {
    first ??= problem
    // The export will be refused: stop keeping (and formatting) lines.
    phase = 'check'
    if (problems.length < MAX_PROBLEMS) {
      const { message } = problem
      problems.push(message.length <= MAX_PROBLEM_MESSAGE ? problem : { ...problem, message: `${message.slice(0, MAX_PROBLEM_MESSAGE)}…` })
    }
    if (badIds.size < MAX_RUN_IDS) badIds.add(problem.runId)
    if (problem.code === 'TASK_RUN_NOT_FOUND') missingIds.push(problem.runId)
  }
  /** Keep the chunks `encoder.add` handed out for one line, holding `lines` whole lines. */
  const keep = (chunks: Buffer[], lines: number): void => {
    if (phase === 'buffer') {
      for (const chunk of chunks) {
        buffered.push(chunk)
        bufferedBytes += chunk.length
      }
      bufferedLines += lines
      if (bufferedBytes + encoder.pendingBytes < bufferBytes) return
      phase = spool === undefined ? 'check' : 'spool'
    } else if (phase === 'spool') {
      if (spool?.add(chunks, lines) === true) {
        spooledLines += lines
        return
      }
      // No room left: these lines stay in memory (one chunk at most), the rest is the second pass's.
      tail.push(...chunks)
      phase = 'check'
    }
  }

  // Lines take their tools from the runs unless the request sends them: then one set for all.
  const toolSets = params.tools == null ? new ToolSetCheck() : undefined
  let checkedCount = 0
  try {
    for await (const batch of source.runs(ids, signal)) {
      // A disk slower than the formatter: wait, rather than queue the lines in memory.
      if (spool !== undefined && spool.queuedBytes > MAX_SPOOL_QUEUE_BYTES) await spool.settle()
      for (const lookup of batch) {
        if (toolSets !== undefined && lookup.status === 'found') toolSets.add(lookup.run)
        const checked = checkRun(lookup, phase === 'check' ? checkLine : formatLine)
        if (!checked.ok) {
          note(checked.problem)
          continue
        }
        if (phase === 'check') continue
        const before = encoder.completedLines
        const chunks = encoder.add(checked.line)
        formattedCount++
        if (chunks.length > 0 || phase === 'buffer') keep(chunks, encoder.completedLines - before)
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
  } catch (err) {
    signal?.removeEventListener('abort', closeSpool)
    closeSpool()
    throw err
  }

  // Lines formatted by the check pass: the buffer's, the spool's, the tail's and the encoder's partial chunk.
  await spool?.settle()
  let formatted = formattedCount
  let streamEncoder = encoder
  if (spool !== undefined && spool.lines < spooledLines) {
    // A spool write failed (disk short): what followed it is formatted again, by the second pass.
    tail.length = 0
    streamEncoder = new LineEncoder(pool.chunkBytes, pool)
    formatted = bufferedLines + spool.lines
  }

  async function * chunks (): AsyncIterable<Buffer> {
    try {
      yield * buffered.splice(0)
      if (spool !== undefined) yield * spool.read(signal)
      await spool?.close()
      yield * tail.splice(0)
      const rest = ids.slice(formatted)
      if (rest.length > 0) {
        for await (const batch of source.runs(rest, signal)) {
          for (const lookup of batch) {
            // The data changed since the check (mounted projects): fail loudly, never truncate quietly.
            if (lookup.status !== 'found') {
              throw new FormatError(lookup.status === 'missing' ? 'TASK_RUN_NOT_FOUND' : 'TASK_RUN_INVALID',
                `Task run ${lookup.id} changed during the export`, lookup.id)
            }
            yield * streamEncoder.add(formatLine(lookup.run))
          }
        }
        signal?.throwIfAborted()
      }
      const last = streamEncoder.flush()
      if (last !== undefined) yield last
    } finally {
      signal?.removeEventListener('abort', closeSpool)
      await spool?.close()
    }
  }

  return {
    fileName: exportFileName(split.name, params.splitName, params.formatName ?? params.format, params.dataStrategy),
    lineCount: ids.length,
    chunks: chunks(),
    pool
  }
}
