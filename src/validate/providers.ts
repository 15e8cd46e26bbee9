import { type ProviderProfileName } from '../format/index.js'

/** How bad a finding is: an error means the file will not train as it is; a warning, that it may train badly. */
export type Severity = 'error' | 'warning'

/** One thing a provider rule found in one line. */
export interface Finding {
  readonly code: string
  readonly severity: Severity
  readonly message: string
}

type JsonObject = Readonly<Record<string, unknown>>

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)
const list = (values: Iterable<string>): string => [...values].join(', ')

/** `a string`, `a list`, `null`, ...: what a value is, for a message. */
function kindOf (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** The message for a role outside the allowed ones. */
function roleMessage (where: string, role: unknown, allowed: ReadonlySet<string>): string {
  return role === undefined ? `${where} has no role` : `${where}.role ${JSON.stringify(role)} is not one of ${[...allowed].join(', ')}`
}

/** Collects the findings of one line; a code is reported once per line, with its first place. */
class Findings {
  readonly all: Finding[] = []
  private readonly seen = new Set<string>()

  error (code: string, message: string): void { this.add({ code, severity: 'error', message }) }
  warning (code: string, message: string): void { this.add({ code, severity: 'warning', message }) }

  private add (finding: Finding): void {
    if (this.seen.has(finding.code)) return
    this.seen.add(finding.code)
    this.all.push(finding)
  }
}

function unknownKeys (value: JsonObject, allowed: ReadonlySet<string>): string[] {
  return Object.keys(value).filter((key) => !allowed.has(key))
}

/*
 * OpenAI chat fine-tuning. Keys and roles: the cookbook's format checks (role, content, name,
 * function_call, weight; system, user, assistant, function) plus the tool-calling fine-tuning format
 * (tool_calls, tool_call_id, role tool, top-level tools).
 * @see https://cookbook.openai.com/examples/chat_finetuning_data_prep
 * @see https://platform.openai.com/docs/guides/fine-tuning
 */
const OPENAI_LINE_KEYS: ReadonlySet<string> = new Set(['messages', 'tools', 'functions', 'parallel_tool_calls'])
const OPENAI_MESSAGE_KEYS: ReadonlySet<string> = new Set(['role', 'content', 'name', 'weight', 'function_call', 'tool_calls', 'tool_call_id'])
const OPENAI_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool', 'function'])

function isJsonText (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function checkOpenaiToolCalls (calls: unknown, where: string, found: Findings): void {
  if (!Array.isArray(calls)) {
    found.error('OPENAI_TOOL_CALL_INVALID', `${where}.tool_calls must be a list`)
    return
  }
  calls.forEach((call: unknown, j) => {
    const at = `${where}.tool_calls[${j}]`
    const fn = isObject(call) ? call.function : undefined
    if (!isObject(call) || typeof call.id !== 'string' || call.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string') {
      found.error('OPENAI_TOOL_CALL_INVALID', `${at} must be {"id": string, "type": "function", "function": {"name": string, "arguments": string}}`)
      return
    }
    if (typeof fn.arguments !== 'string') {
      found.error('OPENAI_TOOL_ARGUMENTS_NOT_STRING', `${at}.function.arguments must be a JSON string for OpenAI, not ${kindOf(fn.arguments)}`)
    } else if (!isJsonText(fn.arguments)) {
      found.error('OPENAI_TOOL_ARGUMENTS_NOT_JSON', `${at}.function.arguments is not valid JSON`)
    }
  })
}

function checkOpenai (line: JsonObject, found: Findings): void {
  if (line.messages === undefined && (line.input !== undefined || line.preferred_output !== undefined)) {
    checkOpenaiPreference(line, found)
    return
  }
  const extra = unknownKeys(line, OPENAI_LINE_KEYS)
  if (extra.length > 0) found.error('OPENAI_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; OpenAI's chat format allows ${list(OPENAI_LINE_KEYS)}`)
  const { messages } = line
  if (!Array.isArray(messages) || messages.length === 0) {
    found.error('OPENAI_MISSING_MESSAGES', 'The line has no "messages" list')
    return
  }
  let assistants = 0
  messages.forEach((message: unknown, i) => {
    const where = `messages[${i}]`
    if (!isObject(message)) {
      found.error('OPENAI_MESSAGE_NOT_OBJECT', `${where} is not an object`)
      return
    }
    const keys = unknownKeys(message, OPENAI_MESSAGE_KEYS)
    if (keys.length > 0) found.error('OPENAI_UNKNOWN_MESSAGE_KEY', `${where} has ${list(keys)}; OpenAI allows ${list(OPENAI_MESSAGE_KEYS)}`)
    const role = message.role
    if (typeof role !== 'string' || !OPENAI_ROLES.has(role)) {
      found.error('OPENAI_UNKNOWN_ROLE', roleMessage(where, role, OPENAI_ROLES))
    }
    if (role === 'assistant') assistants++
    const calls = message.tool_calls ?? message.function_call
    const { content } = message
    if (calls == null) {
      if (typeof content !== 'string' || content === '') {
        // The usual cause is an empty system_message: say so, the index alone does not.
        found.error('OPENAI_MISSING_CONTENT', role === 'system'
          ? `${where} is an empty system message: OpenAI refuses it (send a non-empty system_message)`
          : `${where} has no content (a non-empty string is needed)`)
      }
    } else if (content != null && typeof content !== 'string') {
      found.error('OPENAI_MISSING_CONTENT', `${where}.content must be a string or null`)
    }
    if (message.tool_calls !== undefined) checkOpenaiToolCalls(message.tool_calls, where, found)
    if (role === 'tool' && typeof message.tool_call_id !== 'string') found.error('OPENAI_TOOL_CALL_ID_MISSING', `${where} is a tool response without a tool_call_id`)
  })
  if (assistants === 0) found.error('OPENAI_NO_ASSISTANT_MESSAGE', 'The example has no assistant message to learn from')
  if (line.tools !== undefined) {
    const tools = line.tools
    const valid = Array.isArray(tools) && tools.every((tool: unknown) => isObject(tool) && tool.type === 'function' && isObject(tool.function) && typeof tool.function.name === 'string')
    if (!valid) found.error('OPENAI_INVALID_TOOLS', '"tools" must be a list of {"type": "function", "function": {"name", ...}}')
  }
}

/*
 * OpenAI preference (DPO) lines, which Fireworks and Together read too: {"input": {"messages",
 * "tools", "parallel_tool_calls"}, "preferred_output": [assistant], "non_preferred_output": [assistant]}.
 * Each side is checked as a chat line (the prompt's messages plus that answer), and each answer
 * must be exactly one assistant message.
 * @see https://platform.openai.com/docs/guides/direct-preference-optimization
 */
const OPENAI_PREFERENCE_KEYS: ReadonlySet<string> = new Set(['input', 'preferred_output', 'non_preferred_output'])

/** One side of a pair: a list of exactly one message of `role`, or an error under `code`. */
function oneAnswer (answer: unknown, where: string, role: string, code: string, found: Findings): unknown[] {
  if (!Array.isArray(answer) || answer.length !== 1 || !isObject(answer[0]) || answer[0].role !== role) {
    found.error(code, `"${where}" must be a list of exactly one ${role} message`)
    return []
  }
  return answer
}

function checkOpenaiPreference (line: JsonObject, found: Findings): void {
  const extra = unknownKeys(line, OPENAI_PREFERENCE_KEYS)
  if (extra.length > 0) found.error('OPENAI_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; OpenAI's preference format allows ${list(OPENAI_PREFERENCE_KEYS)}`)
  const input = isObject(line.input) ? line.input : {}
  const messages = Array.isArray(input.messages) ? input.messages : []
  for (const side of ['preferred_output', 'non_preferred_output'] as const) {
    const answer = oneAnswer(line[side], side, 'assistant', 'OPENAI_INVALID_PREFERENCE_OUTPUT', found)
    checkOpenai({ ...input, messages: [...messages, ...answer] }, found)
  }
}

/*
 * Vertex AI Gemini tuning: {"systemInstruction": {"parts": [{"text"}]}, "contents": [...]}; a
 * content's role is user or model (or unset, as for function responses); a part holds one of text,
 * functionCall {name, args: object}, functionResponse {name, response: object}, fileData, inlineData.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content
 */
const VERTEX_LINE_KEYS: ReadonlySet<string> = new Set(['systemInstruction', 'contents', 'tools'])
const VERTEX_ROLES: ReadonlySet<string> = new Set(['user', 'model'])
const VERTEX_PART_KINDS = ['text', 'functionCall', 'functionResponse', 'fileData', 'inlineData'] as const

function checkVertexPart (part: unknown, where: string, found: Findings): void {
  if (!isObject(part)) {
    found.error('VERTEX_INVALID_PART', `${where} is not an object`)
    return
  }
  const kinds = VERTEX_PART_KINDS.filter((kind) => part[kind] !== undefined)
  if (kinds.length !== 1) {
    found.error('VERTEX_INVALID_PART', `${where} must hold exactly one of ${list(VERTEX_PART_KINDS)}`)
    return
  }
  if (part.text !== undefined && typeof part.text !== 'string') found.error('VERTEX_INVALID_PART', `${where}.text must be a string`)
  const call = part.functionCall
  if (call !== undefined) {
    if (!isObject(call) || typeof call.name !== 'string') found.error('VERTEX_INVALID_PART', `${where}.functionCall must be {"name": string, "args": object}`)
    else if (call.args !== undefined && !isObject(call.args)) found.error('VERTEX_FUNCTION_ARGS_NOT_OBJECT', `${where}.functionCall.args must be an object`)
  }
  const response = part.functionResponse
  if (response !== undefined && (!isObject(response) || typeof response.name !== 'string' || !isObject(response.response))) {
    found.error('VERTEX_INVALID_PART', `${where}.functionResponse must be {"name": string, "response": object}`)
  }
}

/*
 * Vertex preference tuning: {"system_instruction", "contents" (ending with a user turn),
 * "completions": [{"score", "completion": model content}, ...]}; each completion is checked as the
 * model turn of a tuning line.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-preference-tuning-prepare
 */
const VERTEX_PREFERENCE_KEYS: ReadonlySet<string> = new Set(['system_instruction', 'contents', 'completions'])

function checkVertexPreference (line: JsonObject, found: Findings): void {
  const extra = unknownKeys(line, VERTEX_PREFERENCE_KEYS)
  if (extra.length > 0) found.error('VERTEX_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; Vertex's preference format allows ${list(VERTEX_PREFERENCE_KEYS)}`)
  const contents = Array.isArray(line.contents) ? line.contents : []
  const last: unknown = contents[contents.length - 1]
  if (!isObject(last) || last.role !== 'user') found.error('VERTEX_INVALID_PREFERENCE', '"contents" must end with a user turn')
  const { completions } = line
  const valid = Array.isArray(completions) && completions.length >= 2 &&
    completions.every((item: unknown) => isObject(item) && typeof item.score === 'number' && isObject(item.completion))
  if (!valid) {
    found.error('VERTEX_INVALID_PREFERENCE', '"completions" must list at least two {"score": number, "completion": {"role": "model", "parts": [...]}}')
    return
  }
  for (const item of completions as JsonObject[]) {
    const system = line.system_instruction === undefined ? {} : { systemInstruction: line.system_instruction }
    checkVertex({ ...system, contents: [...contents, item.completion] }, found)
  }
}

function checkVertex (line: JsonObject, found: Findings): void {
  if (line.completions !== undefined) {
    checkVertexPreference(line, found)
    return
  }
  const extra = unknownKeys(line, VERTEX_LINE_KEYS)
  if (extra.length > 0) found.error('VERTEX_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; Vertex's tuning format allows ${list(VERTEX_LINE_KEYS)}`)
  const system = line.systemInstruction
  if (system !== undefined) {
    const parts = isObject(system) ? system.parts : undefined
    if (!Array.isArray(parts) || parts.length === 0 || !parts.every((part: unknown) => isObject(part) && typeof part.text === 'string')) {
      found.error('VERTEX_INVALID_SYSTEM_INSTRUCTION', 'systemInstruction must be {"parts": [{"text": string}, ...]}')
    }
  }
  const { contents } = line
  if (!Array.isArray(contents) || contents.length === 0) {
    found.error('VERTEX_MISSING_CONTENTS', 'The line has no "contents" list')
    return
  }
  let modelTurns = 0
  contents.forEach((content: unknown, i) => {
    const where = `contents[${i}]`
    if (!isObject(content)) {
      found.error('VERTEX_INVALID_CONTENT', `${where} is not an object`)
      return
    }
    if (content.role !== undefined && (typeof content.role !== 'string' || !VERTEX_ROLES.has(content.role))) {
      found.error('VERTEX_INVALID_ROLE', roleMessage(where, content.role, VERTEX_ROLES))
    }
    if (content.role === 'model') modelTurns++
    const { parts } = content
    if (!Array.isArray(parts) || parts.length === 0) {
      found.error('VERTEX_MISSING_PARTS', `${where} has no parts`)
      return
    }
    parts.forEach((part: unknown, j) => { checkVertexPart(part, `${where}.parts[${j}]`, found) })
  })
  if (modelTurns === 0) found.error('VERTEX_NO_MODEL_TURN', 'The example has no model turn to learn from')
  if (line.tools !== undefined) {
    const tools = line.tools
    const valid = Array.isArray(tools) && tools.every((tool: unknown) => isObject(tool) && Array.isArray(tool.functionDeclarations) &&
      tool.functionDeclarations.every((declaration: unknown) => isObject(declaration) && typeof declaration.name === 'string'))
    if (!valid) found.error('VERTEX_INVALID_TOOLS', '"tools" must be a list of {"functionDeclarations": [{"name", ...}]}')
  }
}

/*
 * Hugging Face chat templates: {"conversations": [{"role", "content"}, ...]}; roles system, user,
 * assistant, tool; tool calls {"type": "function", "function": {"name", "arguments"}} with the
 * arguments as an object (templates iterate over them), not OpenAI's JSON string.
 * @see https://huggingface.co/docs/transformers/main/en/chat_templating
 * @see https://huggingface.co/docs/transformers/main/en/chat_extras
 */
const HF_LINE_KEYS: ReadonlySet<string> = new Set(['conversations', 'tools'])
const HF_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool'])

/*
 * TRL's conversational preference type: {"prompt": [...], "chosen": [assistant], "rejected": [assistant]};
 * each side is checked as a conversation (the prompt plus that answer).
 * @see https://huggingface.co/docs/trl/main/en/dataset_formats#preference
 */
const HF_PREFERENCE_KEYS: ReadonlySet<string> = new Set(['prompt', 'chosen', 'rejected'])

function checkHuggingfacePreference (line: JsonObject, found: Findings): void {
  const extra = unknownKeys(line, HF_PREFERENCE_KEYS)
  if (extra.length > 0) found.warning('HF_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; TRL's preference type reads ${list(HF_PREFERENCE_KEYS)}`)
  const prompt = Array.isArray(line.prompt) ? line.prompt : []
  for (const side of ['chosen', 'rejected'] as const) {
    const answer = oneAnswer(line[side], side, 'assistant', 'HF_INVALID_PREFERENCE', found)
    checkHuggingface({ conversations: [...prompt, ...answer] }, found)
  }
}

function checkHuggingface (line: JsonObject, found: Findings): void {
  if (line.conversations === undefined && line.prompt !== undefined) {
    checkHuggingfacePreference(line, found)
    return
  }
  const extra = unknownKeys(line, HF_LINE_KEYS)
  if (extra.length > 0) found.warning('HF_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; trainers read the chat from "conversations" and ignore or reject other columns`)
  const { conversations } = line
  if (!Array.isArray(conversations) || conversations.length === 0) {
    found.error('HF_MISSING_CONVERSATIONS', 'The line has no "conversations" list')
    return
  }
  let assistants = 0
  conversations.forEach((message: unknown, i) => {
    const where = `conversations[${i}]`
    if (!isObject(message)) {
      found.error('HF_MESSAGE_NOT_OBJECT', `${where} is not an object`)
      return
    }
    const { role } = message
    if (typeof role !== 'string' || !HF_ROLES.has(role)) found.error('HF_UNKNOWN_ROLE', roleMessage(where, role, HF_ROLES))
    if (role === 'assistant') assistants++
    const calls = message.tool_calls
    if (calls === undefined) {
      if (typeof message.content !== 'string') found.error('HF_MISSING_CONTENT', `${where} has no content string`)
    } else if (message.content != null && typeof message.content !== 'string') {
      found.error('HF_MISSING_CONTENT', `${where}.content must be a string`)
    }
    if (calls !== undefined) {
      if (!Array.isArray(calls)) {
        found.error('HF_TOOL_CALL_INVALID', `${where}.tool_calls must be a list`)
        return
      }
      calls.forEach((call: unknown, j) => {
        const at = `${where}.tool_calls[${j}]`
        const fn = isObject(call) ? call.function : undefined
        if (!isObject(fn) || typeof fn.name !== 'string') {
          found.error('HF_TOOL_CALL_INVALID', `${at} must be {"type": "function", "function": {"name": string, "arguments": object}}`)
        } else if (!isObject(fn.arguments)) {
          found.error('HF_TOOL_ARGUMENTS_NOT_OBJECT', `${at}.function.arguments must be an object for chat templates, not ${typeof fn.arguments === 'string' ? 'a JSON string' : kindOf(fn.arguments)}`)
        }
      })
    }
    if (role === 'tool' && typeof message.content !== 'string') found.error('HF_MISSING_CONTENT', `${where} is a tool response without content`)
  })
  if (assistants === 0) found.error('HF_NO_ASSISTANT_MESSAGE', 'The example has no assistant message to learn from')
}

/** What the report knows about one provider profile besides its data (data/provider-profiles.json). */
export interface ProfileRules {
  /** The provider's line rules. */
  readonly checkLine: (line: JsonObject, found: Findings) => void
  /** The code for a line that is not a JSON object. */
  readonly lineNotObject: string
  /** Whose tokenizer the o200k/cl100k count stands in for, or null when it is the provider's own. */
  readonly estimatedTokenizer: string | null
}

/** Every profile's rules: adding a profile name (format/types.ts) makes the compiler ask for an entry here. */
export const PROFILE_RULES = {
  openai: { checkLine: checkOpenai, lineNotObject: 'OPENAI_LINE_NOT_OBJECT', estimatedTokenizer: null },
  vertex_gemini: { checkLine: checkVertex, lineNotObject: 'VERTEX_LINE_NOT_OBJECT', estimatedTokenizer: 'Gemini\'s' },
  huggingface: { checkLine: checkHuggingface, lineNotObject: 'HF_LINE_NOT_OBJECT', estimatedTokenizer: 'the trained model\'s' }
} as const satisfies Record<ProviderProfileName, ProfileRules>

/**
 * The provider's rules, checked on one exported line exactly as the export writes it (parsed).
 * Each code is reported once per line, with the first place it was found.
 */
export function checkProviderLine (profile: ProviderProfileName, example: unknown): Finding[] {
  const found = new Findings()
  const rules: ProfileRules = PROFILE_RULES[profile]
  if (!isObject(example)) found.error(rules.lineNotObject, 'The line is not a JSON object')
  else rules.checkLine(example, found)
  return found.all
}
