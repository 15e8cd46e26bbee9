/** Why the formatter refused a run or a request; the HTTP layer maps each code to a status. */
export type FormatErrorCode =
  /* Refused for the whole request, before any run is read. */
  | 'STRATEGY_NOT_SUPPORTED'
  /* pair_by sent with a format that writes no preference pairs. */
  | 'PAIR_BY_NOT_SUPPORTED'
  | 'SPLIT_NOT_FOUND'
  | 'TASK_RUN_NOT_FOUND'
  | 'TASK_RUN_INVALID'
  | 'THINKING_INSTRUCTIONS_REQUIRED'
  | 'THINKING_INSTRUCTIONS_NOT_SUPPORTED'
  | 'THINKING_DATA_REQUIRED'
  | 'THINKING_DATA_BLANK'
  | 'TRACE_INVALID'
  /** A trace's tool calls in a format whose provider cannot train on them (Bedrock Nova). */
  | 'TOOL_CALLS_NOT_SUPPORTED'
  | 'TOOL_NOT_RESOLVABLE'
  | 'MIXED_TOOL_SETS'
  | 'OUTPUT_NOT_JSON'
  | 'OUTPUT_NOT_OBJECT'
  | 'OUTPUT_NOT_FINITE'
  | 'OUTPUT_NOT_SUPPORTED'
  | 'UNENCODABLE_TEXT'
  /* A preference export whose split makes no pair at all. */
  | 'NO_PREFERENCE_PAIRS'

/** An error the formatter raises for data Kiln would reject (or that we reject on purpose). */
export class FormatError extends Error {
  override readonly name = 'FormatError'

  constructor (
    readonly code: FormatErrorCode,
    message: string,
    /** The run that caused it, when one did. */
    readonly runId?: string
  ) {
    super(message)
  }
}

/**
 * Kiln's `Split <name> not found in dataset` (kept as the start, which clients match), then the
 * fix: the dataset's name and id and the split names it has (split names are case-sensitive).
 */
export function splitNotFoundError (split: { readonly id: string, readonly name: string, readonly split_contents: Readonly<Record<string, unknown>> }, splitName: string): FormatError {
  const names = Object.keys(split.split_contents)
  const known = names.length === 0 ? 'it has no splits' : `its splits are: ${names.join(', ')} (case-sensitive)`
  return new FormatError('SPLIT_NOT_FOUND', `Split ${splitName} not found in dataset "${split.name}" (${split.id}): ${known}`)
}
