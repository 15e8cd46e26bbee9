import { bedrockConversation } from './bedrock-conversation.js'
import { huggingfaceChatTemplate } from './huggingface-chat-template.js'
import { huggingfaceToolcall } from './huggingface-toolcall.js'
import { openaiChat } from './openai-chat.js'
import { openaiJsonSchema } from './openai-json-schema.js'
import { openaiToolcall } from './openai-toolcall.js'
import { huggingfacePreference, openaiPreference, vertexGeminiPreference } from './preference-formats.js'
import { type FormatGenerator } from './types.js'
import { vertexGemini } from './vertex-gemini.js'

/**
 * Every export format, keyed by Kiln's `DatasetFormat` value (Kiln's six, then ours: Amazon Bedrock's
 * conversation format). The HTTP schema's enum, the OpenAPI document, `GET /formats` and dispatch
 * are all derived from this one object.
 */
export const FORMATS = {
  openai_chat_jsonl: openaiChat,
  openai_chat_json_schema_jsonl: openaiJsonSchema,
  openai_chat_toolcall_jsonl: openaiToolcall,
  huggingface_chat_template_jsonl: huggingfaceChatTemplate,
  huggingface_chat_template_toolcall_jsonl: huggingfaceToolcall,
  vertex_gemini_1_5: vertexGemini,
  bedrock_conversation_jsonl: bedrockConversation,
  openai_preference_jsonl: openaiPreference,
  huggingface_preference_jsonl: huggingfacePreference,
  vertex_gemini_preference: vertexGeminiPreference
} as const satisfies Record<string, FormatGenerator>

/** A format name accepted by the exporter. */
export type DatasetFormat = keyof typeof FORMATS

/** The format names, in Kiln's order, then the preference formats. */
export const DATASET_FORMATS = Object.keys(FORMATS) as DatasetFormat[]

/** A format whose lines are preference pairs (its entry's `kind`). */
export type PreferenceFormat = { [F in DatasetFormat]: typeof FORMATS[F] extends { kind: 'preference' } ? F : never }[DatasetFormat]

/** True when `format` writes preference (DPO) pairs rather than one example per run. */
export function isPreferenceFormat (format: DatasetFormat): format is PreferenceFormat {
  return FORMATS[format].kind === 'preference'
}

/**
 * Later Kiln names of our formats. Kiln renamed `vertex_gemini_1_5` to `vertex_gemini` in April
 * 2025 (same lines), and Kiln's users send the new name: accepted by default (FORMAT_ALIASES=false
 * turns it off, as at the seed). A file keeps the name that was sent.
 */
export const FORMAT_ALIASES = { vertex_gemini: 'vertex_gemini_1_5' } as const satisfies Record<string, DatasetFormat>

/** A later Kiln name of a format. */
export type FormatAlias = keyof typeof FORMAT_ALIASES

/** Every format name accepted by default: Kiln's six and ours, then Kiln's current names. */
export const FORMAT_NAMES: ReadonlyArray<DatasetFormat | FormatAlias> = [...DATASET_FORMATS, ...Object.keys(FORMAT_ALIASES) as FormatAlias[]]

/** The format a name (canonical or alias) stands for, or undefined. */
export function resolveFormat (name: string): DatasetFormat | undefined {
  if (isDatasetFormat(name)) return name
  return Object.hasOwn(FORMAT_ALIASES, name) ? FORMAT_ALIASES[name as FormatAlias] : undefined
}

/** True when `name` is one of the formats (exact, case-sensitive, as in Kiln). */
export function isDatasetFormat (name: string): name is DatasetFormat {
  return Object.hasOwn(FORMATS, name)
}
