import { createHash } from 'node:crypto'
import { FormatError } from './errors.js'
import { parseFinalOutput, quoteOutput } from './parse-output.js'
import { PythonJsonValueError, UnencodableStringError, checkPythonJsonDumpable, dumpPythonJson, type PyDumpable } from './python-json.js'
import { FORMATS, type PreferenceFormat } from './registry.js'
import { toolsOf } from './training-chat.js'
import { type TaskRunData } from './types.js'

/*
 * Which runs of a split make preference (DPO) pairs, and in which order the lines come. The
 * contract (also in the README, "Preference pairs"):
 *
 * - Repair pairs (both `pair_by` values): a run with a `repaired_output` whose text differs from its
 *   `output` gives one pair, preferred = repaired output, non-preferred = output (Kiln treats a
 *   repair as the correct answer). Its line goes at the run's place in split order.
 * - Rating pairs (`pair_by: "rating"` only, besides the repair pairs): runs are grouped by exact
 *   `input` text (a split is one task). A run's rating is comparable when `output.rating` is
 *   present, its type is five_star, pass_fail or pass_fail_critical (not custom) and its value is in
 *   the type's range; it is compared as Kiln's `normalize_rating` (five_star (v-1)/4, pass_fail v,
 *   pass_fail_critical (v+1)/2). In each group the highest-rated run is preferred over the
 *   lowest-rated; among equal ratings the first in split order is taken (on both ends). One rating
 *   pair per input: none when the group has fewer than two comparable runs, when highest equals
 *   lowest, or when the two final answers (the repaired output when there is one) are the same
 *   text. Its line goes at the place of the group's first run (rated or not) in split order, after
 *   that run's repair pair if it has one.
 * - Every other run makes no pair: it is skipped and counted (and listed by the validation report).
 * - A split with no pair at all is refused (NO_PREFERENCE_PAIRS), an empty split too.
 *
 * Memory: O(distinct inputs), a small record per input group (two run indexes and ids, two ratings,
 * two answer hashes; the input itself only as a SHA-256), never the runs; a rating pair's two
 * runs are read again when its line is written.
 */

/** How runs are paired: `repair` (default) or `repair` plus `rating`. */
export const PAIR_BY = ['repair', 'rating'] as const
/** A pairing rule. */
export type PairBy = typeof PAIR_BY[number]

/** Kiln's `normalize_rating` range per rating type (custom ratings cannot be normalised). */
const RATING_RANGES: Readonly<Record<string, { readonly min: number, readonly max: number, readonly normalize: (v: number) => number }>> = {
  five_star: { min: 1, max: 5, normalize: (v) => (v - 1) / 4 },
  pass_fail: { min: 0, max: 1, normalize: (v) => v },
  pass_fail_critical: { min: -1, max: 1, normalize: (v) => (v + 1) / 2 }
}

/** A run's rating normalised to 0..1 as Kiln's `normalize_rating`, or null when it has none that compares. */
export function normalizedRating (run: TaskRunData): number | null {
  const rating = (run.output as { rating?: unknown }).rating
  if (typeof rating !== 'object' || rating === null) return null
  const { type, value } = rating as { type?: unknown, value?: unknown }
  if (typeof type !== 'string' || typeof value !== 'number' || !Object.hasOwn(RATING_RANGES, type)) return null
  const range = RATING_RANGES[type] as (typeof RATING_RANGES)[string]
  return value >= range.min && value <= range.max ? range.normalize(value) : null
}

/** The answer a run stands for: its repaired output when it has one, else its output. */
export function finalAnswer (run: TaskRunData): string {
  return run.repaired_output != null ? run.repaired_output.output : run.output.output
}

/** True when the run makes a repair pair: a repaired output whose text differs from the output. */
export function makesRepairPair (run: TaskRunData): boolean {
  return run.repaired_output != null && run.repaired_output.output !== run.output.output
}

const digest = (text: string): string => createHash('sha256').update(text).digest('base64')

interface Rated { readonly index: number, readonly id: string, readonly value: number, readonly answer: string, readonly repaired: boolean }
interface Group { readonly first: number, best?: Rated, worst?: Rated, rated: number }

/** A rating pair: the two runs, by split index and id. */
export interface RatingPair {
  readonly preferred: { readonly index: number, readonly id: string }
  readonly nonPreferred: { readonly index: number, readonly id: string }
}

/**
 * Feed it every readable run of a split in split order (`add`), then ask it where the lines go.
 * Both export passes use the same plan, so both write the same lines in the same order.
 */
export class PairPlanner {
  private readonly groups = new Map<string, Group>()
  private repairRuns = 0
  private runs = 0
  private plan: Map<number, RatingPair> | undefined

  constructor (readonly pairBy: PairBy) {}

  /** Note run `index` (its place in the split). */
  add (index: number, run: TaskRunData): void {
    this.runs++
    const repaired = makesRepairPair(run)
    if (repaired) this.repairRuns++
    if (this.pairBy !== 'rating') return
    const key = digest(run.input)
    let group = this.groups.get(key)
    if (group === undefined) {
      group = { first: index, rated: 0 }
      this.groups.set(key, group)
    }
    const value = normalizedRating(run)
    if (value === null) return
    group.rated++
    const rated = { index, id: run.id, value, answer: digest(finalAnswer(run)), repaired }
    if (group.best === undefined || value > group.best.value) group.best = rated
    if (group.worst === undefined || value < group.worst.value) group.worst = rated
  }

  /** The rating pairs, keyed by the split index where each line goes (after every `add`). */
  ratingPairs (): ReadonlyMap<number, RatingPair> {
    if (this.plan !== undefined) return this.plan
    this.plan = new Map()
    for (const group of this.groups.values()) {
      const { best, worst } = group
      if (best === undefined || worst === undefined || best.value <= worst.value || best.answer === worst.answer) continue
      this.plan.set(group.first, { preferred: { index: best.index, id: best.id }, nonPreferred: { index: worst.index, id: worst.id } })
    }
    return this.plan
  }

  /** Lines the export writes. */
  get pairCount (): number {
    return this.repairRuns + this.ratingPairs().size
  }

  /** Runs read that are in no pair. */
  get skippedRuns (): number {
    let used = this.repairRuns
    for (const group of this.groups.values()) {
      const { best, worst } = group
      if (best === undefined || worst === undefined || !this.ratingPairs().has(group.first)) continue
      used += (best.repaired ? 0 : 1) + (worst.repaired ? 0 : 1)
    }
    return this.runs - used
  }

  /** Why run `index` makes no pair (for the validation report), or null when it is in one. */
  skipReason (index: number, run: TaskRunData): string | null {
    if (makesRepairPair(run)) return null
    const noRepair = run.repaired_output == null ? 'it has no repaired output' : 'its repaired output is the same text as its output'
    if (this.pairBy === 'repair') return `Run ${run.id} makes no preference pair: ${noRepair} (pair_by repair)`
    const group = this.groups.get(digest(run.input))
    const pair = group === undefined ? undefined : this.ratingPairs().get(group.first)
    if (pair !== undefined && (pair.preferred.index === index || pair.nonPreferred.index === index)) return null
    let why: string
    if (normalizedRating(run) === null) why = 'it has no rating that compares (none, custom, or out of range)'
    else if (group === undefined || group.rated < 2) why = 'no other run with the same input has a rating that compares'
    else if (group.best === undefined || group.worst === undefined || group.best.value <= group.worst.value) why = 'every rated run with its input has the same rating'
    else if (pair === undefined) why = 'the highest- and lowest-rated runs with its input have the same answer'
    else why = 'it is neither the first highest- nor the first lowest-rated run with its input'
    return `Run ${run.id} makes no preference pair: ${noRepair}, and ${why} (pair_by rating)`
  }
}

/** Kiln's JSON-format message for an answer that does not parse (openai_chat_json_schema_jsonl, final_only). */
const notJson = (answer: string) => (pythonError: string): string => `Invalid JSON in JSON Schema training set: ${pythonError}\nOutput Data: ${quoteOutput(answer)}`

/** Everything that decides how a pair becomes a line. */
export interface PairLineOptions {
  readonly format: PreferenceFormat
  readonly systemMessage: string
  /** Request tool definitions (formats that carry tools); without them, the preferred run's run-config tools. */
  readonly tools?: readonly unknown[] | null
  /** The task has an output JSON schema: both answers are parsed and re-serialised as the JSON formats do. */
  readonly structuredOutput: boolean
}

/** One pair to write: the prompt's run (input, tools) and each answer with the run it came from. */
export interface PairSource {
  readonly prompt: TaskRunData
  readonly preferred: { readonly run: TaskRunData, readonly text: string }
  readonly nonPreferred: { readonly run: TaskRunData, readonly text: string }
}

/** The pair of a repair: the repaired output over the output, both from `run`. */
export function repairPair (run: TaskRunData): PairSource {
  return { prompt: run, preferred: { run, text: finalAnswer(run) }, nonPreferred: { run, text: run.output.output } }
}

/** The repair pair a run makes, or undefined. */
export function repairPairOf (run: TaskRunData): PairSource | undefined {
  return makesRepairPair(run) ? repairPair(run) : undefined
}

/** The pair of a rating pair's two runs. */
export function ratingPairOf (preferred: TaskRunData, nonPreferred: TaskRunData): PairSource {
  return { prompt: preferred, preferred: { run: preferred, text: finalAnswer(preferred) }, nonPreferred: { run: nonPreferred, text: finalAnswer(nonPreferred) } }
}

/**
 * The function that writes one pair as a JSONL line (with its `\n`), Python's `json.dumps` spelling;
 * `check: true` only checks (returns ''). Throws FormatError tagged with the run at fault.
 */
export function createPairFormatter (options: PairLineOptions, check = false): (pair: PairSource) => string {
  const generator = FORMATS[options.format]
  const toolOptions = { tools: options.tools ?? null, runTools: generator.carriesTools }
  const answer = (side: PairSource['preferred']): string => {
    if (!options.structuredOutput) return side.text
    try {
      return dumpPythonJson(parseFinalOutput(side.text, notJson(side.text)), { keepLoneSurrogates: true })
    } catch (err) {
      if (err instanceof FormatError) throw new FormatError(err.code, err.message, side.run.id)
      throw err
    }
  }
  return (pair) => {
    const runId = pair.prompt.id
    try {
      const tools = generator.carriesTools ? toolsOf(pair.prompt, toolOptions) : null
      const preferred = answer(pair.preferred)
      const nonPreferred = answer(pair.nonPreferred)
      const value: PyDumpable = generator.generate({ systemMessage: options.systemMessage, input: pair.prompt.input, preferred, nonPreferred, tools })
      if (check) {
        checkPythonJsonDumpable(value)
        return ''
      }
      return dumpPythonJson(value) + '\n'
    } catch (err) {
      if (err instanceof FormatError) throw err.runId === undefined ? new FormatError(err.code, err.message, runId) : err
      if (err instanceof UnencodableStringError) throw new FormatError('UNENCODABLE_TEXT', err.message, runId)
      if (err instanceof PythonJsonValueError) throw new FormatError('OUTPUT_NOT_SUPPORTED', err.message, runId)
      throw err
    }
  }
}
