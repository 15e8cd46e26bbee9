import { FormatError, runToolIds, toolSetKey, type FormatErrorCode, type TaskRunData } from '../format/index.js'
import { type RunLookup } from '../source/types.js'

/*
 * The export's check of one run, shared by the export (prepare-export.ts) and the validation
 * report: a report names exactly the problems the export would refuse, with the same codes and
 * messages, because both come from here.
 */

/** One run the export refuses, and why. */
export interface RunProblem {
  readonly runId: string
  readonly code: FormatErrorCode
  readonly message: string
}

/** At most this many ids are named in a message about missing runs. */
const MAX_IDS_IN_MESSAGE = 20

/** Kiln's intended (at the seed, unreachable) message for missing runs, extended to several ids. */
export function missingRunsMessage (ids: readonly string[]): string {
  if (ids.length === 1) return `Task run ${ids[0]} not found. This is required by this dataset.`
  const more = ids.length > MAX_IDS_IN_MESSAGE ? ` and ${ids.length - MAX_IDS_IN_MESSAGE} more` : ''
  return `Task runs ${ids.slice(0, MAX_IDS_IN_MESSAGE).join(', ')}${more} not found. They are required by this dataset.`
}

/** What checking one run gave: its line, or the problem (with the run, when it could be read). */
export type RunCheck =
  | { readonly ok: true, readonly run: TaskRunData, readonly line: string }
  | { readonly ok: false, readonly run: TaskRunData | null, readonly problem: RunProblem }

/**
 * Check one run as the export does: it must exist, be a readable Kiln run, and format into a line
 * (any FormatError the formatter raises for it). Anything but a FormatError is a bug and is thrown.
 */
export function checkRun (lookup: RunLookup, formatLine: (run: TaskRunData) => string): RunCheck {
  switch (lookup.status) {
    case 'missing':
      return { ok: false, run: null, problem: { runId: lookup.id, code: 'TASK_RUN_NOT_FOUND', message: missingRunsMessage([lookup.id]) } }
    case 'invalid':
      return { ok: false, run: null, problem: { runId: lookup.id, code: 'TASK_RUN_INVALID', message: lookup.message } }
    case 'found':
      try {
        return { ok: true, run: lookup.run, line: formatLine(lookup.run) }
      } catch (err) {
        if (err instanceof FormatError) return { ok: false, run: lookup.run, problem: { runId: lookup.id, code: err.code, message: err.message } }
        throw err
      }
  }
}

/** Kiln's app's refusal of a split whose runs were made with different tools. */
export const MIXED_TOOL_SETS = 'Dataset contains mixed tool/skill selections and cannot be exported'

const describeTools = (ids: readonly string[]): string => ids.length === 0 ? 'no tools' : `tools ${ids.join(', ')}`

/**
 * Kiln's `DatasetSplit.compute_tool_info`: every run must use the same set of run-config tools (a
 * run without a run config uses none). Needed only when the lines take their tools from the runs,
 * that is when the request sends no `tools`. Feed it every run read; `problem` is the first clash.
 */
export class ToolSetCheck {
  private first: { readonly runId: string, readonly key: string, readonly ids: readonly string[] } | undefined
  problem: RunProblem | undefined

  add (run: TaskRunData): void {
    if (this.problem !== undefined) return
    const ids = runToolIds(run)
    const key = toolSetKey(ids)
    if (this.first === undefined) {
      this.first = { runId: run.id, key, ids }
    } else if (key !== this.first.key) {
      this.problem = {
        runId: run.id,
        code: 'MIXED_TOOL_SETS',
        message: `${MIXED_TOOL_SETS}: run ${this.first.runId} was made with ${describeTools(this.first.ids)}, run ${run.id} with ${describeTools(ids)}. ` +
          'Export runs made with one tool set, or send "tools" in the request: those definitions then go on every line ([] for none).'
      }
    }
  }
}
