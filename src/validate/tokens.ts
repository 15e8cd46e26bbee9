import { FORMATS, type DatasetFormat, type LineShape } from '../format/index.js'
import { type TextTokenCounter } from './tokenizers.js'

/** One message as the token count sees it: its role, the texts it carries and an optional name. */
export interface TokenMessage {
  readonly role: string
  readonly texts: readonly string[]
  readonly name?: string
}

/** An example as the token count sees it: its messages and any text sent besides them (tool definitions). */
export interface TokenChat {
  readonly messages: readonly TokenMessage[]
  readonly extra: readonly string[]
}

/** OpenAI's cookbook constants (`num_tokens_from_messages`, gpt-3.5-turbo-0613 and later, gpt-4, gpt-4o). */
export const TOKENS_PER_MESSAGE = 3
export const TOKENS_PER_NAME = 1
/** Every reply is primed with `<|start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3

/**
 * Tokens of an example, counted as OpenAI's cookbook counts chat messages: 3 per message, the
 * tokens of each of its values (role, texts, name), 1 more for a name, and 3 for the reply
 * priming. Tool calls and tool definitions are counted as their text, an estimate (OpenAI formats
 * function definitions its own way).
 * @see https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken
 */
export function countChatTokens (chat: TokenChat, count: TextTokenCounter): number {
  let tokens = REPLY_PRIMING_TOKENS
  for (const message of chat.messages) {
    tokens += TOKENS_PER_MESSAGE + count(message.role)
    for (const text of message.texts) tokens += count(text)
    if (message.name !== undefined) tokens += count(message.name) + TOKENS_PER_NAME
  }
  for (const text of chat.extra) tokens += count(text)
  return tokens
}

/** Every text countChatTokens counts (roles, texts, names, extra), in order, repeats included. */
export function chatTexts (chat: TokenChat): string[] {
  const texts: string[] = []
  for (const message of chat.messages) {
    texts.push(message.role, ...message.texts)
    if (message.name !== undefined) texts.push(message.name)
  }
  texts.push(...chat.extra)
  return texts
}

type JsonObject = Readonly<Record<string, unknown>>

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)
const arrayOf = (value: unknown): readonly unknown[] => Array.isArray(value) ? value : []
const asText = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value) ?? ''

/** An OpenAI or Hugging Face message: content, reasoning_content (trained too), tool calls (name and arguments), tool_call_id. */
function chatMessage (value: unknown): TokenMessage {
  const message = isObject(value) ? value : {}
  const texts: string[] = []
  if (typeof message.content === 'string') texts.push(message.content)
  if (typeof message.reasoning_content === 'string') texts.push(message.reasoning_content)
  for (const call of arrayOf(message.tool_calls)) {
    const fn = isObject(call) && isObject(call.function) ? call.function : {}
    if (typeof fn.name === 'string') texts.push(fn.name)
    if (fn.arguments !== undefined) texts.push(asText(fn.arguments))
  }
  if (typeof message.tool_call_id === 'string') texts.push(message.tool_call_id)
  return {
    role: typeof message.role === 'string' ? message.role : '',
    texts,
    ...(typeof message.name === 'string' ? { name: message.name } : {})
  }
}

/** A Vertex content: its text parts, and function calls and responses as their JSON text. */
function vertexMessage (value: unknown, defaultRole: string): TokenMessage {
  const content = isObject(value) ? value : {}
  const texts = arrayOf(content.parts).map((part) => {
    if (!isObject(part)) return ''
    if (typeof part.text === 'string') return part.text
    return asText(part.functionCall ?? part.functionResponse ?? part)
  })
  return { role: typeof content.role === 'string' ? content.role : defaultRole, texts }
}

const toolsText = (line: JsonObject): string[] => line.tools === undefined ? [] : [asText(line.tools)]
const objectOf = (value: unknown): JsonObject => isObject(value) ? value : {}

/** A Bedrock message (or the `system` list, as role `system`): its text blocks, other blocks as their JSON text. */
function bedrockMessage (role: unknown, blocks: unknown): TokenMessage {
  const texts = arrayOf(blocks).map((block) => isObject(block) && typeof block.text === 'string' ? block.text : asText(block))
  return { role: typeof role === 'string' ? role : '', texts }
}

/** How to read the chat of a line, per line shape: adding a shape makes the compiler ask for its reader. */
const LINE_READERS: Record<LineShape, (line: JsonObject) => TokenChat> = {
  openai_messages: (line) => ({ messages: arrayOf(line.messages).map(chatMessage), extra: toolsText(line) }),
  huggingface_conversations: (line) => ({ messages: arrayOf(line.conversations).map(chatMessage), extra: toolsText(line) }),
  vertex_contents: (line) => {
    const system = line.systemInstruction === undefined ? [] : [vertexMessage(line.systemInstruction, 'system')]
    return {
      messages: [...system, ...arrayOf(line.contents).map((content) => vertexMessage(content, 'user'))],
      extra: toolsText(line)
    }
  },
  bedrock_messages: (line) => {
    const system = line.system === undefined ? [] : [bedrockMessage('system', line.system)]
    const messages = arrayOf(line.messages).map((message) => isObject(message) ? bedrockMessage(message.role, message.content) : bedrockMessage('', []))
    return { messages: [...system, ...messages], extra: line.toolConfig === undefined ? [] : [asText(line.toolConfig)] }
  },
  // A preference pair is counted as the prompt plus both answers: every token the trainer reads.
  openai_preference: (line) => {
    const input = objectOf(line.input)
    const messages = [...arrayOf(input.messages), ...arrayOf(line.preferred_output), ...arrayOf(line.non_preferred_output)]
    return { messages: messages.map(chatMessage), extra: toolsText(input) }
  },
  huggingface_preference: (line) => ({
    messages: [...arrayOf(line.prompt), ...arrayOf(line.chosen), ...arrayOf(line.rejected)].map(chatMessage),
    extra: []
  }),
  vertex_preference: (line) => {
    const system = line.system_instruction === undefined ? [] : [vertexMessage(line.system_instruction, 'system')]
    const completions = arrayOf(line.completions).map((item) => vertexMessage(objectOf(item).completion, 'model'))
    return { messages: [...system, ...arrayOf(line.contents).map((content) => vertexMessage(content, 'user')), ...completions], extra: [] }
  }
}

/**
 * The messages of one exported line (parsed), read by the shape of the format that wrote it
 * (its registry entry's `lineShape`).
 */
export function tokenChatOfLine (format: DatasetFormat, example: unknown): TokenChat {
  return LINE_READERS[FORMATS[format].lineShape](isObject(example) ? example : {})
}
