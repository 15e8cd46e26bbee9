import {
  FormatError,
  PairPlanner,
  createPairFormatter,
  ratingPairOf,
  repairPairOf,
  type PairSource,
  type PreferenceFormat,
  type RatingPair,
  type RunIdList,
  type TaskRunData
} from '../format/index.js'
import { type DatasetSource } from '../source/types.js'
import { ChunkPool } from './chunk-pool.js'
import { LineEncoder } from './line-encoder.js'
import { ExportDataError, type ExportParams, type PrepareOptions, type PreparedExport } from './prepare-export.js'
import { ToolSetCheck, checkRun, missingRunsMessage, type RunProblem } from './run-check.js'

/*
 * The preference (DPO) export, with prepare-export.ts's contract: every data error before the first
 * byte, the same lines in the same order on both passes, bounded memory. The check pass reads the
 * split once (each run checked as the SFT export checks it; repair pairs formatted; ratings noted
 * per input, PairPlanner), then formats the rating pairs, reading their two runs again. The stream
 * pass reads the split again and writes, at each run's place, its repair pair, then the rating pair
 * of the input group it opens. Which runs pair: src/format/preference-pairs.ts.
 */

/* The SFT export's limits (prepare-export.ts): problems kept, run ids named, characters per message. */
const MAX_PROBLEMS = 100
const MAX_RUN_IDS = 1000
const MAX_PROBLEM_MESSAGE = 1000

/** The message of a split that makes no pair, saying how to get some. */
export function noPairsMessage (splitName: string, runs: number, pairBy: string): string {
  const how = pairBy === 'rating'
    ? 'no run has a repaired output that differs from its output, and no two runs with the same input have different comparable ratings (five_star, pass_fail or pass_fail_critical) and different answers'
    : 'no run has a repaired output that differs from its output'
  return `Split ${splitName} makes no preference pair (pair_by ${pairBy}, ${runs} run${runs === 1 ? '' : 's'}): ${how}. ` +
    'Repair runs in Kiln (the repaired output is the preferred answer), or send pair_by "rating" with rated runs that share an input.'
}

/** Read two runs (a rating pair's), in the given order; a run gone since the check is an error. */
async function readPair (source: DatasetSource, pair: RatingPair, signal: AbortSignal | undefined): Promise<[TaskRunData, TaskRunData]> {
  const found: TaskRunData[] = []
  for await (const batch of source.runs([pair.preferred.id, pair.nonPreferred.id], signal)) {
    for (const lookup of batch) {
      if (lookup.status !== 'found') {
        throw new FormatError(lookup.status === 'missing' ? 'TASK_RUN_NOT_FOUND' : 'TASK_RUN_INVALID', `Task run ${lookup.id} changed during the export`, lookup.id)
      }
      found.push(lookup.run)
    }
  }
  signal?.throwIfAborted()
  const [preferred, nonPreferred] = found
  if (preferred === undefined || nonPreferred === undefined) throw new Error('a rating pair lost a run')
  return [preferred, nonPreferred]
}

/** A checked preference export: its pairing, and its lines (each with its `\n`), made on demand. */
export interface PreferencePlan {
  readonly planner: PairPlanner
  /** Each line with the run at whose place it goes (for a rating pair, its preferred run). */
  lines (): AsyncIterable<{ readonly text: string, readonly runId: string }>
}

/** The parameters of a preference export (ExportParams with a preference format). */
export type PreferenceParams = Pick<ExportParams, 'splitName' | 'systemMessage' | 'tools' | 'pairBy'> & { readonly format: PreferenceFormat }

/**
 * The check pass of a preference export (the export and the validation report share it): throws
 * ExportDataError for any data error, NO_PREFERENCE_PAIRS when nothing pairs; else the plan.
 */
export async function planPreferenceExport (
  source: DatasetSource,
  params: PreferenceParams,
  ids: RunIdList,
  signal: AbortSignal | undefined,
  /** The caller's planner (the validation report reads it even when the export is refused). */
  planner = new PairPlanner(params.pairBy ?? 'repair')
): Promise<PreferencePlan> {
  const pairBy = params.pairBy ?? 'repair'
  const lineOptions = { format: params.format, systemMessage: params.systemMessage, tools: params.tools ?? null, structuredOutput: source.structuredOutput === true }
  const formatPair = createPairFormatter(lineOptions)
  const checkPair = createPairFormatter(lineOptions, true)
  const problems: RunProblem[] = []
  const badIds = new Set<string>()
  const missingIds: string[] = []
  let first: RunProblem | undefined
  const note = (problem: RunProblem): void => {
    first ??= problem
    if (problems.length < MAX_PROBLEMS) {
      const { message } = problem
      problems.push(message.length <= MAX_PROBLEM_MESSAGE ? problem : { ...problem, message: `${message.slice(0, MAX_PROBLEM_MESSAGE)}…` })
    }
    if (badIds.size < MAX_RUN_IDS) badIds.add(problem.runId)
    if (problem.code === 'TASK_RUN_NOT_FOUND') missingIds.push(problem.runId)
  }
  /** The problem of formatting one pair, or undefined. */
  const tryPair = (pair: PairSource): RunProblem | undefined => {
    try {
      checkPair(pair)
      return undefined
    } catch (err) {
      if (err instanceof FormatError) return { runId: err.runId ?? pair.prompt.id, code: err.code, message: err.message }
      throw err
    }
  }

  const toolSets = params.tools == null ? new ToolSetCheck() : undefined
  let index = 0
  for await (const batch of source.runs(ids, signal)) {
    for (const lookup of batch) {
      const at = index++
      if (toolSets !== undefined && lookup.status === 'found') toolSets.add(lookup.run)
      // Existence and readability, exactly as the SFT export checks them; the line is the pair's.
      const checked = checkRun(lookup, () => '')
      if (!checked.ok) {
        note(checked.problem)
        continue
      }
      planner.add(at, checked.run)
      const repair = repairPairOf(checked.run)
      if (repair !== undefined) {
        const problem = tryPair(repair)
        if (problem !== undefined) note(problem)
      }
    }
  }
  signal?.throwIfAborted()
  // Rating pairs are known once every run was read: check their lines now, in line order (only when
  // the runs passed: a refused export is refused anyway, and its runs are not read a second time).
  if (first === undefined) {
    for (const pair of [...planner.ratingPairs().entries()].sort(([a], [b]) => a - b).map(([, pair]) => pair)) {
      const problem = tryPair(ratingPairOf(...await readPair(source, pair, signal)))
      if (problem !== undefined) note(problem)
    }
  }

  const mixed = toolSets?.problem
  if (mixed !== undefined) {
    throw new ExportDataError(mixed.code, mixed.message, [mixed.runId, ...[...badIds].filter((id) => id !== mixed.runId)], [mixed, ...problems].slice(0, MAX_PROBLEMS))
  }
  if (first !== undefined) {
    const message = first.code === 'TASK_RUN_NOT_FOUND' ? missingRunsMessage(missingIds) : first.message
    throw new ExportDataError(first.code, message, [...badIds], problems)
  }
  if (planner.pairCount === 0) {
    throw new ExportDataError('NO_PREFERENCE_PAIRS', noPairsMessage(params.splitName, ids.length, pairBy), [], [])
  }

  const ratingPairs = planner.ratingPairs()
  async function * lines (): AsyncIterable<{ readonly text: string, readonly runId: string }> {
    let at = 0
    for await (const batch of source.runs(ids, signal)) {
      for (const lookup of batch) {
        const here = at++
        // The data changed since the check (mounted projects): fail loudly, never truncate quietly.
        if (lookup.status !== 'found') {
          throw new FormatError(lookup.status === 'missing' ? 'TASK_RUN_NOT_FOUND' : 'TASK_RUN_INVALID', `Task run ${lookup.id} changed during the export`, lookup.id)
        }
        const repair = repairPairOf(lookup.run)
        if (repair !== undefined) yield { text: formatPair(repair), runId: lookup.id }
        const rating = ratingPairs.get(here)
        if (rating !== undefined) yield { text: formatPair(ratingPairOf(...await readPair(source, rating, signal))), runId: rating.preferred.id }
      }
    }
    signal?.throwIfAborted()
  }
  return { planner, lines }
}

/** Check a preference export, then hand back its lazy body (prepareExport for the preference formats). */
export async function preparePreferenceExport (
  source: DatasetSource,
  params: PreferenceParams,
  ids: RunIdList,
  fileName: string,
  options: PrepareOptions
): Promise<PreparedExport> {
  const { planner, lines } = await planPreferenceExport(source, params, ids, options.signal)
  const pool = new ChunkPool(options.chunkBytes ?? 64 * 1024)
  const encoder = new LineEncoder(pool.chunkBytes, pool)
  async function * chunks (): AsyncIterable<Buffer> {
    for await (const line of lines()) yield * encoder.add(line.text)
    const last = encoder.flush()
    if (last !== undefined) yield last
  }
  return { fileName, lineCount: planner.pairCount, skippedRuns: planner.skippedRuns, chunks: chunks(), pool }
}
