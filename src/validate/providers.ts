import { type LineShape, type ProviderProfileName } from '../format/index.js'

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

/** OpenAI-shaped tool calls (OpenAI, Fireworks, Together); `prefix` names the profile in the codes. */
function checkOpenaiToolCalls (calls: unknown, where: string, found: Findings, prefix = 'OPENAI'): void {
  if (!Array.isArray(calls)) {
    found.error(`${prefix}_TOOL_CALL_INVALID`, `${where}.tool_calls must be a list`)
    return
  }
  calls.forEach((call: unknown, j) => {
    const at = `${where}.tool_calls[${j}]`
    const fn = isObject(call) ? call.function : undefined
    if (!isObject(call) || typeof call.id !== 'string' || call.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string') {
      found.error(`${prefix}_TOOL_CALL_INVALID`, `${at} must be {"id": string, "type": "function", "function": {"name": string, "arguments": string}}`)
      return
    }
    if (typeof fn.arguments !== 'string') {
      found.error(`${prefix}_TOOL_ARGUMENTS_NOT_STRING`, `${at}.function.arguments must be a JSON string for OpenAI, not ${kindOf(fn.arguments)}`)
    } else if (!isJsonText(fn.arguments)) {
      found.error(`${prefix}_TOOL_ARGUMENTS_NOT_JSON`, `${at}.function.arguments is not valid JSON`)
    }
  })
}

/** OpenAI-shaped tool definitions: a list of {"type": "function", "function": {"name", ...}}. */
function checkOpenaiTools (tools: unknown, found: Findings, prefix: string, where = 'tools'): void {
  const valid = Array.isArray(tools) && tools.every((tool: unknown) => isObject(tool) && tool.type === 'function' && isObject(tool.function) && typeof tool.function.name === 'string')
  if (!valid) found.error(`${prefix}_INVALID_TOOLS`, `"${where}" must be a list of {"type": "function", "function": {"name", ...}}`)
}

function checkOpenai (line: JsonObject, found: Findings): void {
  if (line.messages === undefined && (line.input !== undefined || line.preferred_output !== undefined)) {
    checkPreferenceLine(line, found, { prefix: 'OPENAI', inputKeys: OPENAI_PREFERENCE_INPUT_KEYS, reasoningKeys: [], oneTurn: false })
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
  if (line.tools !== undefined) checkOpenaiTools(line.tools, found, 'OPENAI')
}

/*
 * Preference (DPO) lines, the shape OpenAI, Fireworks and Together share:
 * {"input": {"messages": [...], "tools"?: [...]}, "preferred_output": [assistant], "non_preferred_output": [assistant]}.
 * The input ends with the user turn the two answers reply to; each side is exactly one assistant
 * message with a string content.
 * @see https://developers.openai.com/api/docs/guides/direct-preference-optimization
 * @see https://docs.fireworks.ai/fine-tuning/dpo-fine-tuning
 * @see https://docs.together.ai/docs/fine-tuning/data-preparation
 */
const PREFERENCE_LINE_KEYS: ReadonlySet<string> = new Set(['input', 'preferred_output', 'non_preferred_output'])
const OPENAI_PREFERENCE_INPUT_KEYS: ReadonlySet<string> = new Set(['messages', 'tools', 'parallel_tool_calls'])
const PREFERENCE_INPUT_KEYS: ReadonlySet<string> = new Set(['messages', 'tools'])
const PREFERENCE_INPUT_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant'])

interface PreferenceRules {
  /** The profile's code prefix: OPENAI, FIREWORKS, TOGETHER. */
  readonly prefix: string
  readonly inputKeys: ReadonlySet<string>
  /** Reasoning fields an output message may carry (Together: reasoning, reasoning_content). */
  readonly reasoningKeys: readonly string[]
  /** True when the input may hold no assistant turn (Fireworks: one-turn conversations only). */
  readonly oneTurn: boolean
}

function checkPreferenceOutput (output: unknown, side: string, found: Findings, rules: PreferenceRules): void {
  const message: unknown = Array.isArray(output) && output.length === 1 ? output[0] : undefined
  const allowed = new Set(['role', 'content', ...rules.reasoningKeys])
  if (!isObject(message) || message.role !== 'assistant' || typeof message.content !== 'string' || unknownKeys(message, allowed).length > 0) {
    found.error(`${rules.prefix}_PREFERENCE_OUTPUT_INVALID`, `${side} must be a list of exactly one {"role": "assistant", "content": string} message` +
      (rules.reasoningKeys.length === 0 ? '' : ` (optionally with ${rules.reasoningKeys.join(' or ')})`))
    return
  }
  for (const key of rules.reasoningKeys) {
    if (message[key] !== undefined && typeof message[key] !== 'string') found.error(`${rules.prefix}_INVALID_REASONING`, `${side}[0].${key} must be a string`)
  }
}

/** A preference line's rules, shared by the profiles that read the OpenAI preference shape. */
function checkPreferenceLine (line: JsonObject, found: Findings, rules: PreferenceRules): void {
  const { prefix } = rules
  const extra = unknownKeys(line, PREFERENCE_LINE_KEYS)
  if (extra.length > 0) found.error(`${prefix}_PREFERENCE_UNKNOWN_KEY`, `The preference line has ${list(extra)}; it allows ${list(PREFERENCE_LINE_KEYS)}`)
  const { input } = line
  const messages = isObject(input) ? input.messages : undefined
  if (!isObject(input) || !Array.isArray(messages) || messages.length === 0) {
    found.error(`${prefix}_PREFERENCE_MISSING_INPUT`, 'The preference line has no "input": {"messages": [...]}')
  } else {
    const keys = unknownKeys(input, rules.inputKeys)
    if (keys.length > 0) found.error(`${prefix}_PREFERENCE_UNKNOWN_KEY`, `input has ${list(keys)}; it allows ${list(rules.inputKeys)}`)
    messages.forEach((message: unknown, i) => {
      const where = `input.messages[${i}]`
      if (!isObject(message) || typeof message.role !== 'string' || !PREFERENCE_INPUT_ROLES.has(message.role) || typeof message.content !== 'string') {
        found.error(`${prefix}_PREFERENCE_INPUT_MESSAGE_INVALID`, `${where} must be {"role": system, user or assistant, "content": string}`)
      } else if (rules.oneTurn && message.role === 'assistant') {
        found.error(`${prefix}_PREFERENCE_MULTI_TURN`, `${where} is an assistant turn: only one-turn conversations are supported (system and user, then the two answers)`)
      }
    })
    const last: unknown = messages[messages.length - 1]
    if (!isObject(last) || last.role !== 'user') found.error(`${prefix}_PREFERENCE_INPUT_NOT_ENDING_WITH_USER`, 'input.messages must end with the user message the two outputs answer')
    if (input.tools !== undefined) checkOpenaiTools(input.tools, found, prefix, 'input.tools')
  }
  checkPreferenceOutput(line.preferred_output, 'preferred_output', found, rules)
  checkPreferenceOutput(line.non_preferred_output, 'non_preferred_output', found, rules)
}

/** One side of a pair: a list of exactly one message of `role`, or an error under `code`. */
function oneAnswer (answer: unknown, where: string, role: string, code: string, found: Findings): unknown[] {
  if (!Array.isArray(answer) || answer.length !== 1 || !isObject(answer[0]) || answer[0].role !== role) {
    found.error(code, `"${where}" must be a list of exactly one ${role} message`)
    return []
  }
  return answer
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

/*
 * Chat messages of the OpenAI-compatible providers (Fireworks, Together): each message's keys,
 * role, content, weight, reasoning and tool calls. The order of the turns is each provider's own.
 */
interface ChatRules {
  /** The profile's code prefix: FIREWORKS, TOGETHER. */
  readonly prefix: string
  readonly lineKeys: ReadonlySet<string>
  readonly messageKeys: ReadonlySet<string>
  readonly roles: ReadonlySet<string>
  /** The reasoning fields an assistant message may carry. */
  readonly reasoningKeys: readonly string[]
}

/** Checks one message; returns its role when it is a message with a known role, for the order rules. */
function checkChatMessage (message: unknown, where: string, found: Findings, rules: ChatRules): string | null {
  const { prefix } = rules
  if (!isObject(message)) {
    found.error(`${prefix}_MESSAGE_NOT_OBJECT`, `${where} is not an object`)
    return null
  }
  const keys = unknownKeys(message, rules.messageKeys)
  if (keys.length > 0) found.error(`${prefix}_UNKNOWN_MESSAGE_KEY`, `${where} has ${list(keys)}; it allows ${list(rules.messageKeys)}`)
  const { role, content } = message
  const known = typeof role === 'string' && rules.roles.has(role)
  if (!known) found.error(`${prefix}_UNKNOWN_ROLE`, roleMessage(where, role, rules.roles))
  const calls = role === 'assistant' ? message.tool_calls : undefined
  if (calls == null ? typeof content !== 'string' : content != null && typeof content !== 'string') {
    found.error(`${prefix}_MISSING_CONTENT`, `${where}.content must be a string${calls == null ? '' : ' or null (with tool_calls)'}, not ${kindOf(content)}`)
  }
  // Only 0 (masked, not trained on) and 1: not 0.5, not true.
  if (message.weight !== undefined && message.weight !== 0 && message.weight !== 1) {
    found.error(`${prefix}_INVALID_WEIGHT`, `${where}.weight must be 0 or 1, not ${JSON.stringify(message.weight)}`)
  }
  const reasoning = rules.reasoningKeys.filter((key) => message[key] !== undefined)
  if (reasoning.length > 0 && role !== 'assistant') {
    found.error(`${prefix}_INVALID_REASONING`, `${where} has ${list(reasoning)}: only assistant messages carry reasoning`)
  } else if (reasoning.length > 1) {
    found.error(`${prefix}_INVALID_REASONING`, `${where} has both ${list(reasoning)}: give one`)
  } else if (reasoning.some((key) => typeof message[key] !== 'string')) {
    found.error(`${prefix}_INVALID_REASONING`, `${where}.${reasoning[0] ?? ''} must be a string`)
  }
  if (message.tool_calls !== undefined) checkOpenaiToolCalls(message.tool_calls, where, found, prefix)
  if (role === 'tool' && typeof message.tool_call_id !== 'string') found.error(`${prefix}_TOOL_CALL_ID_MISSING`, `${where} is a tool response without a tool_call_id`)
  return known ? role : null
}

/** The line keys, every message, the tools, and an assistant message to learn from; returns the roles (null where unknown). */
function checkChatLine (line: JsonObject, found: Findings, rules: ChatRules): Array<string | null> | null {
  const { prefix } = rules
  const extra = unknownKeys(line, rules.lineKeys)
  if (extra.length > 0) found.error(`${prefix}_UNKNOWN_LINE_KEY`, `The line has ${list(extra)}; the chat format allows ${list(rules.lineKeys)}`)
  const { messages } = line
  if (!Array.isArray(messages) || messages.length === 0) {
    found.error(`${prefix}_MISSING_MESSAGES`, 'The line has no "messages" list')
    return null
  }
  const roles = messages.map((message: unknown, i) => checkChatMessage(message, `messages[${i}]`, found, rules))
  const assistants = messages.filter((message: unknown) => isObject(message) && message.role === 'assistant')
  if (assistants.length === 0) {
    found.error(`${prefix}_NO_ASSISTANT_MESSAGE`, 'The example has no assistant message to learn from')
  } else if (assistants.every((message) => isObject(message) && message.weight === 0)) {
    found.warning(`${prefix}_ALL_ASSISTANT_WEIGHTS_ZERO`, 'Every assistant message has weight 0: the example trains nothing')
  }
  if (line.tools !== undefined) checkOpenaiTools(line.tools, found, prefix)
  return roles
}

/*
 * Fireworks AI supervised fine-tuning: OpenAI-compatible chat lines. Roles system (optional, first
 * only), user, assistant, plus tool for function-calling datasets with a list of tools; content a
 * string; weight 0 or 1 (0 skips the message); reasoning_content on assistant turns (models that
 * think). Preference lines: one-turn only. 3 to 3,000,000 examples (data/provider-profiles.json).
 * @see https://docs.fireworks.ai/fine-tuning/fine-tuning-models
 * @see https://fireworks.ai/docs/updates/changelog (reasoning_content, 2025-08-22)
 * @see https://docs.fireworks.ai/fine-tuning/dpo-fine-tuning
 */
const FIREWORKS_CHAT: ChatRules = {
  prefix: 'FIREWORKS',
  lineKeys: new Set(['messages', 'tools']),
  messageKeys: new Set(['role', 'content', 'weight', 'reasoning_content', 'tool_calls', 'tool_call_id']),
  roles: new Set(['system', 'user', 'assistant', 'tool']),
  reasoningKeys: ['reasoning_content']
}

function checkFireworks (line: JsonObject, found: Findings): void {
  if (line.input !== undefined) {
    checkPreferenceLine(line, found, { prefix: 'FIREWORKS', inputKeys: PREFERENCE_INPUT_KEYS, reasoningKeys: [], oneTurn: true })
    return
  }
  const roles = checkChatLine(line, found, FIREWORKS_CHAT)
  const late = roles?.findIndex((role, i) => role === 'system' && i > 0) ?? -1
  if (late > 0) found.error('FIREWORKS_SYSTEM_NOT_FIRST', `messages[${late}] is a system message: Fireworks allows one, as the first message`)
}

/*
 * Together AI fine-tuning. A file holds one kind of record: conversational (messages), instruction
 * (prompt, completion), preference (input, preferred_output, non_preferred_output) or generic text
 * (text); "If the same file has two possible formats (for example both text and messages), the
 * server rejects it." A conversation starts with system or user, then alternates user and
 * assistant; an assistant's tool_calls are answered by tool messages. reasoning or
 * reasoning_content on assistant messages; weight 0 or 1.
 * @see https://docs.together.ai/docs/fine-tuning/data-preparation
 * @see https://docs.together.ai/docs/fine-tuning/reasoning
 * @see https://docs.together.ai/docs/fine-tuning/function-calling
 */
const TOGETHER_CHAT: ChatRules = {
  prefix: 'TOGETHER',
  lineKeys: new Set(['messages', 'tools']),
  messageKeys: new Set(['role', 'content', 'weight', 'reasoning', 'reasoning_content', 'tool_calls', 'tool_call_id']),
  roles: new Set(['system', 'user', 'assistant', 'tool']),
  reasoningKeys: ['reasoning', 'reasoning_content']
}

const TOGETHER_RECORD_KINDS = {
  conversational: ['messages'],
  instruction: ['prompt', 'completion'],
  preference: ['input', 'preferred_output', 'non_preferred_output'],
  generic_text: ['text']
} as const

type TogetherRecordKind = keyof typeof TOGETHER_RECORD_KINDS

/** The record kinds whose keys the line has (more than one: a line Together rejects). */
function togetherKinds (line: JsonObject): TogetherRecordKind[] {
  return (Object.keys(TOGETHER_RECORD_KINDS) as TogetherRecordKind[]).filter((kind) => TOGETHER_RECORD_KINDS[kind].some((key) => Object.hasOwn(line, key)))
}

/** A line's record kind for the whole-file rule; null when it has none or several (the line's own error). */
function togetherLineKind (line: JsonObject): string | null {
  const kinds = togetherKinds(line)
  return kinds.length === 1 ? kinds[0] ?? null : null
}

/** What may follow each role after the first turn (tool only after an assistant's tool_calls). */
function togetherNextOk (previous: string | null, role: string, previousCalls: boolean): boolean {
  if (previous === null) return role === 'user'
  if (previous === 'user') return role === 'assistant'
  if (previous === 'assistant') return role === 'user' || (role === 'tool' && previousCalls)
  return role === 'tool' || role === 'assistant'
}

function checkTogetherOrder (messages: readonly unknown[], roles: ReadonlyArray<string | null>, found: Findings): void {
  let previous: string | null = null
  let previousCalls = false
  for (const [i, role] of roles.entries()) {
    // An unknown role is its own error; the order is checked on the rest.
    if (role === null || (i === 0 && role === 'system')) continue
    if (!togetherNextOk(previous, role, previousCalls)) {
      found.error('TOGETHER_ROLE_ORDER', `messages[${i}] is ${role} after ${previous ?? 'the start'}: a conversation starts with system or user, ` +
        'then alternates user and assistant (tool messages only after an assistant\'s tool_calls)')
      return
    }
    const message = messages[i]
    previousCalls = role === 'assistant' && isObject(message) && message.tool_calls != null
    previous = role
  }
}

function checkTogether (line: JsonObject, found: Findings): void {
  const kinds = togetherKinds(line)
  if (kinds.length > 1) {
    found.error('TOGETHER_MIXED_LINE_KINDS', `The line has the keys of ${kinds.join(' and ')} records: Together rejects a file with two formats`)
    return
  }
  if (kinds[0] === 'preference') {
    checkPreferenceLine(line, found, { prefix: 'TOGETHER', inputKeys: PREFERENCE_INPUT_KEYS, reasoningKeys: TOGETHER_CHAT.reasoningKeys, oneTurn: false })
  } else if (kinds[0] === 'instruction') {
    if (typeof line.prompt !== 'string' || typeof line.completion !== 'string') found.error('TOGETHER_INVALID_INSTRUCTION', 'An instruction record needs "prompt" and "completion" strings')
  } else if (kinds[0] === 'generic_text') {
    if (typeof line.text !== 'string') found.error('TOGETHER_INVALID_TEXT', 'A generic text record needs a "text" string')
  } else {
    const roles = checkChatLine(line, found, TOGETHER_CHAT)
    if (roles !== null && Array.isArray(line.messages)) checkTogetherOrder(line.messages, roles, found)
  }
}

/*
 * Amazon Bedrock Nova fine-tuning (bedrock-conversation-2024 records): `schemaVersion` (optional,
 * any string), `system` (optional list of {"text"}), `messages`: user/assistant only, first user,
 * alternating, last assistant, at least two; each `content` a list of blocks holding one of text,
 * image, video, document, reasoningContent (assistant only), toolUse, toolResult; no empty message text.
 * Reserved keywords: the guide's seven, in a system or user prompt, fail the training job (error,
 * case as written). AWS's own validator is stricter (case-insensitive, adds Thought: and <unk>, and
 * reads every text, the answers included): a warning, since the guide does not say so.
 * @see https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
 * @see https://github.com/aws-samples/amazon-nova-samples/tree/main/customization/bedrock-finetuning/understanding/dataset_validation
 */
const BEDROCK_LINE_KEYS: ReadonlySet<string> = new Set(['schemaVersion', 'system', 'messages', 'toolConfig'])
const BEDROCK_ROLES: ReadonlySet<string> = new Set(['user', 'assistant'])
const BEDROCK_BLOCK_KINDS = ['text', 'image', 'video', 'document', 'reasoningContent', 'toolUse', 'toolResult'] as const
/** The guide's reserved keywords, matched as written. */
export const BEDROCK_RESERVED_STRINGS = ['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]'] as const
/** AWS's validator's list (its INVALID_TOKENS_TEXT), matched in any case. */
const BEDROCK_VALIDATOR_STRINGS = [...BEDROCK_RESERVED_STRINGS, 'Thought:', '<unk>'] as const

/** Check one text against the reserved keywords: an error for system/user prompts, else the validator's warning. */
function checkBedrockText (text: string, where: string, prompt: boolean, found: Findings): void {
  const reserved = prompt ? BEDROCK_RESERVED_STRINGS.find((keyword) => text.includes(keyword)) : undefined
  if (reserved !== undefined) {
    found.error('BEDROCK_RESERVED_STRING', `${where} contains ${JSON.stringify(reserved)}, a keyword Amazon Bedrock reserves: ` +
      `a Nova training job fails on prompts that contain ${BEDROCK_RESERVED_STRINGS.join(', ')} (reword it)`)
    return
  }
  const lower = text.toLowerCase()
  const strict = BEDROCK_VALIDATOR_STRINGS.find((keyword) => lower.includes(keyword.toLowerCase()))
  if (strict !== undefined) {
    found.warning('BEDROCK_RESERVED_STRING_ANY_CASE', `${where} contains ${JSON.stringify(strict)} (in any case): AWS's Nova dataset validator refuses ` +
      `${BEDROCK_VALIDATOR_STRINGS.join(', ')} in any case and in any text, answers included`)
  }
}

function checkBedrockMessage (message: unknown, where: string, found: Findings): void {
  if (!isObject(message)) {
    found.error('BEDROCK_MESSAGE_NOT_OBJECT', `${where} is not an object`)
    return
  }
  const { role, content } = message
  if (typeof role !== 'string' || !BEDROCK_ROLES.has(role)) found.error('BEDROCK_INVALID_ROLE', roleMessage(where, role, BEDROCK_ROLES))
  if (!Array.isArray(content) || content.length === 0) {
    found.error('BEDROCK_MISSING_CONTENT', `${where}.content must be a non-empty list of blocks such as {"text": string}`)
    return
  }
  let textLength = 0
  let onlyText = true
  content.forEach((block: unknown, j) => {
    const at = `${where}.content[${j}]`
    const kinds = isObject(block) ? BEDROCK_BLOCK_KINDS.filter((kind) => block[kind] !== undefined) : []
    if (!isObject(block) || kinds.length !== 1) {
      found.error('BEDROCK_INVALID_BLOCK', `${at} must hold exactly one of ${list(BEDROCK_BLOCK_KINDS)}`)
      onlyText = false
      return
    }
    if (kinds[0] !== 'text') onlyText = false
    if (block.reasoningContent !== undefined && role !== 'assistant') {
      found.error('BEDROCK_INVALID_BLOCK', `${at}: reasoningContent is allowed in assistant messages only`)
    }
    if (block.text === undefined) return
    if (typeof block.text !== 'string') {
      found.error('BEDROCK_INVALID_BLOCK', `${at}.text must be a string`)
      return
    }
    textLength += block.text.length
    checkBedrockText(block.text, `${at}.text`, role === 'user', found)
  })
  if (onlyText && textLength === 0) found.error('BEDROCK_EMPTY_TEXT', `${where} has only empty text: Bedrock refuses a message without content`)
}

function checkBedrock (line: JsonObject, found: Findings): void {
  const extra = unknownKeys(line, BEDROCK_LINE_KEYS)
  if (extra.length > 0) found.error('BEDROCK_UNKNOWN_LINE_KEY', `The line has ${list(extra)}; Bedrock's conversation format allows ${list(BEDROCK_LINE_KEYS)}`)
  if (line.schemaVersion === undefined) {
    found.warning('BEDROCK_NO_SCHEMA_VERSION', 'The line has no "schemaVersion": AWS writes "bedrock-conversation-2024" in every record')
  } else if (typeof line.schemaVersion !== 'string') {
    found.error('BEDROCK_INVALID_SCHEMA_VERSION', `"schemaVersion" must be a string, not ${kindOf(line.schemaVersion)}`)
  }
  const { system } = line
  if (system !== undefined) {
    if (!Array.isArray(system) || !system.every((block: unknown) => isObject(block) && typeof block.text === 'string')) {
      found.error('BEDROCK_INVALID_SYSTEM', '"system" must be a list of {"text": string}')
    } else {
      system.forEach((block: JsonObject, i) => { checkBedrockText(block.text as string, `system[${i}].text`, true, found) })
    }
  }
  const { messages } = line
  if (!Array.isArray(messages) || messages.length === 0) {
    found.error('BEDROCK_MISSING_MESSAGES', 'The line has no "messages" list')
    return
  }
  messages.forEach((message: unknown, i) => { checkBedrockMessage(message, `messages[${i}]`, found) })
  // AWS's check_roles_order: even index user, odd index assistant, last assistant, at least two.
  const roles = messages.map((message: unknown) => isObject(message) ? message.role : undefined)
  const wrong = roles.findIndex((role, i) => role !== (i % 2 === 0 ? 'user' : 'assistant'))
  if (wrong !== -1) {
    found.error('BEDROCK_ROLE_ORDER', `messages[${wrong}] should be ${wrong % 2 === 0 ? 'a user' : 'an assistant'} message: Bedrock needs user and assistant turns to alternate, starting with user`)
  } else if (roles.length < 2 || roles.at(-1) !== 'assistant') {
    found.error('BEDROCK_ROLE_ORDER', 'The last message must be an assistant message (the answer to learn), after at least one user message')
  }
}

/** What the report knows about one provider profile besides its data (data/provider-profiles.json). */
export interface ProfileRules {
  /** The provider's line rules. */
  readonly checkLine: (line: JsonObject, found: Findings) => void
  /** The code for a line that is not a JSON object. */
  readonly lineNotObject: string
  /** Whose tokenizer the o200k/cl100k count stands in for, or null when it is the provider's own. */
  readonly estimatedTokenizer: string | null
  /** The line shapes (format/types.ts) the provider reads: GET /validation/profiles lists their formats. */
  readonly lineShapes: readonly LineShape[]
  /** For a provider that rejects a file mixing record kinds: the code, and a line's kind (null: none to compare). */
  readonly recordKinds?: { readonly code: string, readonly kindOf: (line: JsonObject) => string | null }
}

/** Every profile's rules: adding a profile name (format/types.ts) makes the compiler ask for an entry here. */
export const PROFILE_RULES = {
  openai: { checkLine: checkOpenai, lineNotObject: 'OPENAI_LINE_NOT_OBJECT', estimatedTokenizer: null, lineShapes: ['openai_messages', 'openai_preference'] },
  vertex_gemini: { checkLine: checkVertex, lineNotObject: 'VERTEX_LINE_NOT_OBJECT', estimatedTokenizer: 'Gemini\'s', lineShapes: ['vertex_contents', 'vertex_preference'] },
  huggingface: { checkLine: checkHuggingface, lineNotObject: 'HF_LINE_NOT_OBJECT', estimatedTokenizer: 'the trained model\'s', lineShapes: ['huggingface_conversations', 'huggingface_preference'] },
  fireworks: { checkLine: checkFireworks, lineNotObject: 'FIREWORKS_LINE_NOT_OBJECT', estimatedTokenizer: 'the base model\'s', lineShapes: ['openai_messages', 'openai_preference'] },
  together: {
    checkLine: checkTogether,
    lineNotObject: 'TOGETHER_LINE_NOT_OBJECT',
    estimatedTokenizer: 'the base model\'s',
    lineShapes: ['openai_messages', 'openai_preference'],
    recordKinds: { code: 'TOGETHER_MIXED_RECORD_KINDS', kindOf: togetherLineKind }
  },
  bedrock_nova: { checkLine: checkBedrock, lineNotObject: 'BEDROCK_LINE_NOT_OBJECT', estimatedTokenizer: 'Amazon Nova\'s', lineShapes: ['bedrock_messages'] }
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

/**
 * The whole-file rule of a provider that rejects a file mixing record kinds (Together): fed the
 * lines of one split in order, it gives one error, at the first line whose kind differs from the
 * first line's. Profiles without the rule never find anything.
 */
export class RecordKindCheck {
  private first: { readonly kind: string, readonly line: number } | null = null
  private done = false

  constructor (private readonly profile: ProviderProfileName) {}

  /** The finding for `example` (at `line`), or null. */
  check (example: unknown, line: number): Finding | null {
    const rule = (PROFILE_RULES[this.profile] as ProfileRules).recordKinds
    if (rule === undefined || this.done || !isObject(example)) return null
    const kind = rule.kindOf(example)
    if (kind === null) return null
    if (this.first === null) {
      this.first = { kind, line }
      return null
    }
    if (kind === this.first.kind) return null
    this.done = true
    return { code: rule.code, severity: 'error', message: `Line ${line} is a ${kind} record but line ${this.first.line} is a ${this.first.kind} record: the provider rejects a file that mixes record kinds` }
  }
}
