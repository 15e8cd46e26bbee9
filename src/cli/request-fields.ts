import { type ExportRequestFields } from '../export/request-params.js'
import { type ExportOptionsRequest } from './dataset-options.js'

/**
 * The CLI's dataset options as the API's request fields, for exportParams(): `export` and
 * `validate` then build their parameters exactly as the routes do.
 */
export function requestFields<Split extends string | undefined> (request: ExportOptionsRequest, split: Split, systemMessage: string): ExportRequestFields & { readonly split_name: Split } {
  return {
    split_name: split,
    format: request.formatName,
    data_strategy: request.dataStrategy,
    system_message: systemMessage,
    thinking_instructions: request.thinkingInstructions,
    include_tool_calls: request.includeToolCalls,
    tools: request.tools,
    ...(request.pairBy === undefined ? {} : { pair_by: request.pairBy })
  }
}
