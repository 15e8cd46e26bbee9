import { FormatError } from './errors.js'
import { PyNumber, PythonJsonDecodeError, PythonJsonValueError, parsePythonJson, type PyDumpable, type PyValue } from './python-json.js'
import { TEXT_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator, type TrainingChat } from './types.js'

type Json = PyDumpable
type JsonRecord = { readonly [key: string]: Json }

const isRecord = (value: Json | undefined): value is JsonRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof PyNumber) && !(value instanceof Map)

function textContent (role: 'user' | 'model', text: string): Json {
  return { role, parts: [{ text }] }
}

/** Python's `type(x)` spelling, for Kiln's "must be a dictionary object, got <class 'list'>". */
function pythonType (value: PyValue): string {
  if (value === null) return "<class 'NoneType'>"
  if (typeof value === 'string') return "<class 'str'>"
  if (typeof value === 'boolean') return "<class 'bool'>"
  if (value instanceof PyNumber) return /^-?\d+$/.test(value.text) ? "<class 'int'>" : "<class 'float'>"
  return Array.isArray(value) ? "<class 'list'>" : "<class 'dict'>"
}

/** Kiln's `validate_json_dictionary` for tool-call arguments (Vertex wants an object). */
function argumentsObject (text: Json | undefined): PyValue {
  let value: PyValue
  try {
    if (typeof text !== 'string') throw new FormatError('TRACE_INVALID', 'Invalid JSON: tool call arguments must be a JSON string')
    value = parsePythonJson(text)
  } catch (err) {
    if (err instanceof PythonJsonDecodeError || err instanceof PythonJsonValueError) throw new FormatError('TRACE_INVALID', `Invalid JSON: ${err.message}`)
    throw err
  }
  if (!(value instanceof Map)) {
    throw new FormatError('TRACE_INVALID', `tool call arguments must be a dictionary object, got ${pythonType(value)}`)
  }
  return value
}

const VERTEX_TYPES: Readonly<Record<string, string>> = {
  string: 'STRING', integer: 'INTEGER', boolean: 'BOOLEAN', number: 'NUMBER', array: 'ARRAY', object: 'OBJECT'
}

/** Kiln's `convert_schema_to_vertex_types`: JSON Schema `type` names upper-cased, recursively. */
function vertexSchema (schema: JsonRecord): JsonRecord {
  const result: Record<string, Json> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') {
      const vertexType = VERTEX_TYPES[value.toLowerCase()]
      if (vertexType === undefined) {
        throw new FormatError('TRACE_INVALID', `Unsupported type '${value}' in schema. Supported types: ['string', 'integer', 'boolean', 'number', 'array', 'object']`)
      }
      result[key] = vertexType
    } else if (isRecord(value)) {
      result[key] = vertexSchema(value)
    } else if (Array.isArray(value)) {
      result[key] = value.map((item: Json) => (isRecord(item) ? vertexSchema(item) : item))
    } else {
      result[key] = value
    }
  }
  return result
}

/** An OpenAI tool definition as a Vertex function declaration. */
function functionDeclaration (tool: Json): Json {
  const fn = isRecord(tool) ? tool.function : undefined
  if (!isRecord(fn) || typeof fn.name !== 'string') throw new FormatError('TRACE_INVALID', 'Each tool needs function.name')
  const declaration: Record<string, Json> = { name: fn.name }
  if (fn.description !== undefined) declaration.description = fn.description
  if (isRecord(fn.parameters)) declaration.parameters = vertexSchema(fn.parameters)
  return declaration
}

/**
 * The Vertex contents of a chat (Kiln's `generate_vertex_gemini`): user/model text turns, tool calls
 * as `functionCall` parts, and consecutive tool responses grouped in one role-less `parts` entry.
 */
function vertexContents (chat: TrainingChat): Json[] {
  const contents: Json[] = []
  const nameByCallId = new Map<string, string>()
  let responses: Json[] = []
  const flush = (): void => {
    if (responses.length > 0) contents.push({ parts: responses })
    responses = []
  }
  for (const message of chat.messages) {
    switch (message.kind) {
      case 'text':
        flush()
        contents.push(textContent(message.role === 'assistant' ? 'model' : 'user', message.content))
        break
      case 'tool_call': {
        flush()
        const parts = message.toolCalls.map((call) => {
          const fn = isRecord(call) ? call.function : undefined
          const name = isRecord(fn) && typeof fn.name === 'string' ? fn.name : ''
          const args = argumentsObject(isRecord(fn) ? fn.arguments : undefined)
          const id = isRecord(call) ? call.id : undefined
          if (typeof id === 'string' && name !== '') nameByCallId.set(id, name)
          return { functionCall: { name, args } }
        })
        contents.push({ role: 'model', parts })
        break
      }
      case 'tool_response': {
        const name = nameByCallId.get(message.toolCallId)
        if (name === undefined) {
          throw new FormatError('TRACE_INVALID', `Could not find function name for tool_call_id: ${message.toolCallId}. ` +
            'Ensure tool messages have matching assistant tool calls in the trace.')
        }
        responses.push({ functionResponse: { name, response: { content: message.content } } })
        break
      }
    }
  }
  flush()
  contents.push(textContent('model', chat.finalPrefix + chat.finalOutput))
  return contents
}

/** `vertex_gemini_1_5` (Kiln's later name: `vertex_gemini`): `systemInstruction` plus user/model `contents`; the output is not parsed. */
export const vertexGemini: SftFormatGenerator = {
  kind: 'sft',
  description: 'Vertex AI Gemini tuning: {"systemInstruction": ..., "contents": [...]} with user/model roles.',
  parsesOutput: false,
  strategies: TEXT_STRATEGIES,
  carriesTools: true,
  lineShape: 'vertex_contents',
  defaultProfile: 'vertex_gemini',
  generate: (chat) => {
    const line: Record<string, Json> = {
      systemInstruction: { role: 'system', parts: [{ text: chat.systemMessage }] },
      contents: vertexContents(chat)
    }
    if (chat.tools !== null) line.tools = [{ functionDeclarations: chat.tools.map(functionDeclaration) }]
    return line
  }
}
