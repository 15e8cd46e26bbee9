import { randomUUID } from 'node:crypto'
import { FormatError } from './errors.js'
import { PythonJsonValueError, UnencodableStringError, checkPythonJsonDumpable, dumpPythonJson, type PyDumpable } from './python-json.js'
import { type PairBy } from './preference-pairs.js'
import { DATASET_FORMATS, FORMATS, type DatasetFormat } from './registry.js'
import { buildTrainingChat, type TrainingChatOptions } from './training-chat.js'
import { STRATEGIES, isDataStrategy } from './strategies.js'
import { type GenerateContext, type TaskRunData } from './types.js'

/** Everything that decides how runs become lines. */
export interface LineFormatterOptions extends TrainingChatOptions {
  readonly format: DatasetFormat
  /** How a preference format pairs runs; sent with any other format it is refused. */
  readonly pairBy?: PairBy
  /** Defaults to Kiln's `uuid4().hex[:9]`; tests inject a fixed one. */
  readonly randomToolCallId?: () => string
}

/** Kiln's HF tool-call id: the first 9 hex characters of a uuid4 without dashes. */
export function kilnToolCallId (): string {
  const uuid = randomUUID()
  return uuid.slice(0, 8) + uuid.slice(9, 10)
}

/**
 * Refusals of a whole request, before any run is read: only a strategy the format does not
 * support. Everything Kiln refuses is checked per run, in Kiln's order (spec 10.6), so an empty
 * split is an empty file for every strategy, as in Kiln.
 */
export function checkExportOptions (options: Pick<LineFormatterOptions, 'format' | 'dataStrategy' | 'pairBy'>): void {
  const { format, dataStrategy } = options
  if (options.pairBy !== undefined && FORMATS[format].kind !== 'preference') {
    throw new FormatError('PAIR_BY_NOT_SUPPORTED',
      `pair_by is for the preference formats (${DATASET_FORMATS.filter((name) => FORMATS[name].kind === 'preference').join(', ')}); format ${format} writes one example per run: leave pair_by out`)
  }
  if (!FORMATS[format].strategies.includes(dataStrategy)) {
    // Say both ways out: another strategy for this format, or a format that takes this strategy.
    const takers = DATASET_FORMATS.filter((name) => FORMATS[name].strategies.includes(dataStrategy))
    const why = STRATEGIES[dataStrategy].reasoningField ? ' (the thinking goes in reasoning_content, a field only the OpenAI formats have)' : ''
    throw new FormatError('STRATEGY_NOT_SUPPORTED',
      `Format ${format} does not support data strategy ${dataStrategy}: use one of ${FORMATS[format].strategies.join(', ')}, ` +
      `or a format that takes ${dataStrategy}: ${takers.join(', ')}${why} (GET /formats)`)
  }
}

/**
 * Build the function that turns one task run into one JSONL line (with its `\n`), exactly as
 * Kiln's `dump_to_file` writes it: `json.dumps(example, ensure_ascii=False) + "\n"`.
 * It throws FormatError, tagged with the run id, for anything Kiln would reject.
 */
export function createLineFormatter (options: LineFormatterOptions): (run: TaskRunData) => string {
  return lineFunction(options, (value) => dumpPythonJson(value) + '\n')
}

/**
 * Like createLineFormatter, but only checks: it throws the same FormatError for the same run, and
 * otherwise returns '' without building the line's text (the export's check pass).
 */
export function createLineChecker (options: LineFormatterOptions): (run: TaskRunData) => string {
  return lineFunction(options, (value) => {
    checkPythonJsonDumpable(value)
    return ''
  })
}

function lineFunction (options: LineFormatterOptions, finish: (value: PyDumpable) => string): (run: TaskRunData) => string {
  checkExportOptions(options)
  const generator = FORMATS[options.format]
  // A pair needs two answers: preference lines are written by createPairFormatter (preference-pairs.ts).
  if (generator.kind !== 'sft') throw new Error(`format ${options.format} writes preference pairs, not one line per run`)
  const context: GenerateContext = { randomToolCallId: options.randomToolCallId ?? kilnToolCallId }
  // Kiln resolves run-config tools for every format; ours skip it where the lines carry none.
  const chatOptions = { ...options, runTools: generator.carriesTools }
  return (run) => {
    try {
      return finish(generator.generate(buildTrainingChat(run, chatOptions), context))
    } catch (err) {
      if (err instanceof FormatError) throw new FormatError(err.code, err.message, run.id)
      // Python writes the lone surrogate raw and UTF-8 encoding fails; we refuse before writing.
      if (err instanceof UnencodableStringError) throw new FormatError('UNENCODABLE_TEXT', err.message, run.id)
      // A parsed output just under the depth limit can cross it once wrapped in the line (HF tool call).
      if (err instanceof PythonJsonValueError) throw new FormatError('OUTPUT_NOT_SUPPORTED', err.message, run.id)
      throw err
    }
  }
}

/**
 * Kiln's download file name: `<dataset name> -- split-<split> -- format-<format> -- <cot|no-cot>.jsonl`
 * (a name that is no strategy gets `no-cot`, as in Kiln). A preference export paired by rating adds
 * ` -- pair_by-rating` before the extension, so the two pairings of a split never share a name;
 * the default (repair) keeps Kiln's shape.
 */
export function exportFileName (datasetName: string, splitName: string, format: string, dataStrategy: string, pairBy?: PairBy): string {
  const cot = isDataStrategy(dataStrategy) ? STRATEGIES[dataStrategy].fileNamePart : 'no-cot'
  const pairing = pairBy === 'rating' ? ' -- pair_by-rating' : ''
  return `${datasetName} -- split-${splitName} -- format-${format} -- ${cot}${pairing}.jsonl`
}
