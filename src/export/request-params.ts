import { resolveFormat, type DataStrategy, type PairBy } from '../format/index.js'
import { type ValidationParams } from '../validate/index.js'
import { type ExportParams } from './prepare-export.js'

/**
 * The export fields of a request as the API spells them (snake_case): the body of
 * `POST /datasets/:id/export` and `/validate`, and what the CLI reads from its options.
 * Structural, so the core does not depend on the HTTP schemas.
 */
export interface ExportRequestFields {
  /** Undefined: every split (validation only). */
  readonly split_name?: string
  /** A format name or alias; callers only pass names that resolve (schema or CLI check). */
  readonly format: string
  readonly data_strategy?: DataStrategy
  readonly system_message: string
  readonly thinking_instructions?: string | null
  readonly include_tool_calls?: boolean
  readonly tools?: readonly unknown[] | null
  /** Preference formats only; left out, the export pairs by `repair`. */
  readonly pair_by?: PairBy
}

/** The export (or validation, without a split) parameters of a request, with the API's defaults. */
export function exportParams (fields: ExportRequestFields & { readonly split_name: string }): ExportParams
export function exportParams (fields: ExportRequestFields): ValidationParams & Pick<ExportParams, 'formatName'>
export function exportParams (fields: ExportRequestFields): ValidationParams & Pick<ExportParams, 'formatName'> {
  return {
    ...(fields.split_name === undefined ? {} : { splitName: fields.split_name }),
    // Only names that resolve get this far.
    format: resolveFormat(fields.format) ?? 'openai_chat_jsonl',
    formatName: fields.format,
    dataStrategy: fields.data_strategy ?? 'final_only',
    systemMessage: fields.system_message,
    thinkingInstructions: fields.thinking_instructions ?? null,
    includeToolCalls: fields.include_tool_calls ?? true,
    tools: fields.tools ?? null,
    // Kept undefined when not sent: sent with a format that writes no pairs, it is refused.
    ...(fields.pair_by === undefined ? {} : { pairBy: fields.pair_by })
  }
}
