import { huggingfaceChatTemplate } from './huggingface-chat-template.js'
import { huggingfaceToolcall } from './huggingface-toolcall.js'
import { openaiChat } from './openai-chat.js'
import { openaiJsonSchema } from './openai-json-schema.js'
import { openaiToolcall } from './openai-toolcall.js'
import { type FormatGenerator } from './types.js'
import { vertexGemini } from './vertex-gemini.js'

/**
 * Every export format, keyed by Kiln's `DatasetFormat` value. The HTTP schema's enum, the OpenAPI
 * document, `GET /formats` and dispatch are all derived from this one object.
 */
export const FORMATS = {
  openai_chat_jsonl: openaiChat,
  openai_chat_json_schema_jsonl: openaiJsonSchema,
  openai_chat_toolcall_jsonl: openaiToolcall,
  huggingface_chat_template_jsonl: huggingfaceChatTemplate,
  huggingface_chat_template_toolcall_jsonl: huggingfaceToolcall,
  vertex_gemini_1_5: vertexGemini
} as const satisfies Record<string, FormatGenerator>

/** A format name accepted by the exporter. */
export type DatasetFormat = keyof typeof FORMATS

/** The format names, in Kiln's order. */
export const DATASET_FORMATS = Object.keys(FORMATS) as DatasetFormat[]

/** True when `name` is one of the formats (exact, case-sensitive, as in Kiln). */
export function isDatasetFormat (name: string): name is DatasetFormat {
  return Object.hasOwn(FORMATS, name)
}
