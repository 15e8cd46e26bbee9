import { FormatError, type FormatErrorCode, type TaskRunData } from '../format/index.js'
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
