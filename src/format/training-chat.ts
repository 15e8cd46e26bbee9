import { FormatError } from './errors.js'
import { fromJsJson } from './js-json.js'
import { runToolDefinitions } from './kiln-tools.js'
import { type PyDumpable } from './python-json.js'
import { type DataStrategy } from './strategies.js'
import { type ChatMessage, type TaskRunData, type TraceMessage, type TrainingChat, type TrainingData } from './types.js'

/*
 * One run becomes one format-neutral training example here (Kiln's ModelTrainingData and chat
 * formatter): the repaired output wins, thinking turns per data strategy, trace tool calls, and
 * every refusal Kiln makes, in Kiln's order. Generators only shape the result into lines.
 */

/**
 * The final-answer prompt Kiln inserts after the thinking turn (verbatim, no trailing newline).
 * @see https://github.com/Kiln-AI/Kiln/blob/82b6a7fbc6f436c714b6f99723cfd1c812190936/libs/core/kiln_ai/adapters/model_adapters/base_adapter.py
 */
export const COT_FINAL_ANSWER_PROMPT = 'Considering the above, return a final result.'

/** Kiln's message when a thinking run meets a missing or empty thinking instruction. */
export const THINKING_INSTRUCTIONS_REQUIRED =
  'Thinking instructions are required when data_strategy is final_and_intermediate'

/** The per-export settings the seed strategies read (buildTrainingData). */
export type TrainingDataOptions = Pick<TrainingChatOptions, 'systemMessage' | 'thinkingInstructions' | 'dataStrategy'>

/**
 * Kiln's `has_thinking_training_data()` at the seed: key presence only, so `{"reasoning": ""}` counts
 * (spec section 4; upstream changed this in May 2025).
 */
export function hasThinkingTrainingData (run: TaskRunData): boolean {
  const io = run.intermediate_outputs
  return io != null && (Object.hasOwn(io, 'chain_of_thought') || Object.hasOwn(io, 'reasoning'))
}

/** Kiln's `build_training_data`: repaired output wins; thinking only for `final_and_intermediate`. */
export function buildTrainingData (run: TaskRunData, options: TrainingDataOptions): TrainingData {
  const finalOutput = run.repaired_output != null ? run.repaired_output.output : run.output.output
  let thinking: string | null = null
  let thinkingFinalAnswerPrompt: string | null = null
  const io = run.intermediate_outputs
  if (options.dataStrategy === 'final_and_intermediate' && io != null && hasThinkingTrainingData(run)) {
    // Python's `get("reasoning") or get("chain_of_thought")`: an empty reasoning falls through.
    thinking = (io.reasoning || io.chain_of_thought) ?? null
    thinkingFinalAnswerPrompt = COT_FINAL_ANSWER_PROMPT
    // `not thinking_instructions`: None and "" are both refused, but only for runs with thinking data.
    if (!options.thinkingInstructions) {
      throw new FormatError('THINKING_INSTRUCTIONS_REQUIRED', THINKING_INSTRUCTIONS_REQUIRED, run.id)
    }
  }
  return {
    input: run.input,
    systemMessage: options.systemMessage,
    finalOutput,
    thinking,
    thinkingInstructions: options.thinkingInstructions,
    thinkingFinalAnswerPrompt
  }
}

/** Kiln's `supports_cot()`: all three COT fields present (the empty string counts as present). */
export function supportsCot (data: TrainingData): data is TrainingData & {
  readonly thinking: string
  readonly thinkingInstructions: string
  readonly thinkingFinalAnswerPrompt: string
} {
  return data.thinking !== null && data.thinkingInstructions !== null && data.thinkingFinalAnswerPrompt !== null
}

/** Everything that decides how a run becomes a training chat. */
export interface TrainingChatOptions {
  readonly systemMessage: string
  readonly thinkingInstructions: string | null
  readonly dataStrategy: DataStrategy
  /** Put the run's trace tool calls and tool responses before the final answer (Kiln HEAD: always; default true). */
  readonly includeToolCalls?: boolean
  /** Function definitions for every line (OpenAI `tools`, Vertex `functionDeclarations`); they replace the runs' own. */
  readonly tools?: readonly unknown[] | null
  /** Without `tools`, take each run's definitions from its run config, as Kiln HEAD does (formats that carry tools). */
  readonly runTools?: boolean
}

/** Kiln's message (since 2025-06) when a thinking strategy meets a run without thinking data. */
export const THINKING_DATA_REQUIRED =
  'Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.'
/** Kiln's R1 message for blank thinking (missing thinking gets THINKING_DATA_REQUIRED, as in Kiln). */
export const R1_THINKING_DATA_REQUIRED =
  'Thinking data is required when fine-tuning thinking models (R1, QwQ, etc). Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.'

/** Kiln's `two_message_cot` refusal of null thinking instructions (it names the legacy strategy, as Kiln does). */
export const TWO_MESSAGE_COT_INSTRUCTIONS_REQUIRED = 'thinking_instructions are required when strategy is final_and_intermediate'
/** Kiln's R1 refusal of thinking instructions. */
export const R1_INSTRUCTIONS_NOT_SUPPORTED =
  'Thinking instructions are not supported when fine-tuning thinking models (R1, QwQ, etc). Please remove the thinking instructions.'

/** Python's `str.strip()` whitespace (str.isspace): JS `trim()` differs on U+001C-U+001F, U+0085 and U+FEFF. */
// eslint-disable-next-line no-control-regex -- U+001C-U+001F are whitespace to Python, on purpose.
const PYTHON_BLANK = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/

/** Kiln's `TaskRun.thinking_training_data()`: reasoning, or chain_of_thought when reasoning is empty. */
export function thinkingTrainingData (run: TaskRunData): string | null {
  const io = run.intermediate_outputs
  if (io == null) return null
  return (io.reasoning || io.chain_of_thought) ?? null
}

/** Kiln's `extract_text_from_content`: a string, or the text parts of a content list joined by newlines. */
function textOf (content: unknown): string | null {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return null
  const texts = content
    .filter((part): part is { type: 'text', text: string } =>
      typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string')
    .map((part) => part.text)
  return texts.length > 0 ? texts.join('\n') : null
}

/** Kiln's `build_tool_call_messages`: the assistant tool calls and tool responses of a trace, in order. */
export function toolMessagesOf (trace: readonly TraceMessage[] | null | undefined): ChatMessage[] {
  const messages: ChatMessage[] = []
  for (const message of trace ?? []) {
    if (message.role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
      messages.push({ kind: 'tool_call', content: textOf(message.content), toolCalls: message.tool_calls.map(toolCallItem) })
    } else if (message.role === 'tool') {
      if (message.tool_call_id == null) throw new FormatError('TRACE_INVALID', 'Tool call ID is required for tool response messages')
      if (message.content == null) throw new FormatError('TRACE_INVALID', 'Content is required for tool response messages')
      const content = typeof message.content === 'string' ? message.content : JSON.stringify(message.content)
      messages.push({ kind: 'tool_response', content, toolCallId: String(message.tool_call_id) })
    }
  }
  return messages
}

/** Pick `keys` of a JSON object, in that order, dropping the others. */
function pick (value: unknown, keys: readonly string[], each: (key: string, item: unknown) => PyDumpable): PyDumpable {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fromJsJson(value)
  const result: Record<string, PyDumpable> = {}
  for (const key of keys) if (Object.hasOwn(value, key)) result[key] = each(key, (value as Record<string, unknown>)[key])
  return result
}

/**
 * A trace tool call as Kiln HEAD writes it: validated with openai's TypedDicts, so the keys come in
 * their declared order (`id`, `function` {`arguments`, `name`}, `type`) and unknown keys are gone.
 */
function toolCallItem (call: unknown): PyDumpable {
  return pick(call, ['id', 'function', 'type'], (key, item) => key === 'function' ? pick(item, ['arguments', 'name'], (_k, v) => fromJsJson(v)) : fromJsJson(item))
}

const text = (role: 'user' | 'assistant', content: string): ChatMessage => ({ kind: 'text', role, content })

/**
 * The chat of a seed-strategy example (Kiln's ModelTrainingData): system, user, the three COT
 * turns when the record supports COT, the final answer. Trace tool messages go after the user
 * turns, before the thinking.
 */
export function trainingChatFromData (data: TrainingData, toolMessages: readonly ChatMessage[] = [], tools: readonly PyDumpable[] | null = null): TrainingChat {
  const base = { systemMessage: data.systemMessage, tools, finalOutput: data.finalOutput, finalPrefix: '', finalReasoning: null, outputRules: 'seed' as const }
  if (!supportsCot(data)) return { ...base, messages: [text('user', data.input), ...toolMessages] }
  return {
    ...base,
    messages: [
      text('user', data.input), text('user', data.thinkingInstructions), ...toolMessages,
      text('assistant', data.thinking), text('user', data.thinkingFinalAnswerPrompt)
    ]
  }
}

/** The tool definitions of a run's lines: the request's, else (when asked) the run config's, else none. */
export function toolsOf (run: TaskRunData, options: Pick<TrainingChatOptions, 'tools' | 'runTools'>): readonly PyDumpable[] | null {
  const definitions = options.tools ?? (options.runTools === true ? runToolDefinitions(run) : null)
  return definitions != null && definitions.length > 0 ? convertedTools(definitions) : null
}

/**
 * The same definitions go on every line (the request's, or a built-in tool's): convert each list
 * once, not once per run. The result is only read (dumped or copied), never changed.
 */
const converted = new WeakMap<readonly unknown[], readonly PyDumpable[]>()
function convertedTools (definitions: readonly unknown[]): readonly PyDumpable[] {
  let result = converted.get(definitions)
  if (result === undefined) {
    result = definitions.map(fromJsJson)
    converted.set(definitions, result)
  }
  return result
}

/**
 * Build the training chat of one run. The seed strategies follow Kiln's `build_training_data` at
 * the seed commit exactly (so their lines stay byte-identical); the later ones follow Kiln HEAD's
 * chat formatter (spec section 10), with its checks in its order (10.6): tools, instructions
 * (two_message_cot), the trace, instructions (R1), thinking data; the answer's JSON checks come
 * last, in the generators. Trace tool messages go after the user turn(s), before any thinking.
 */
export function buildTrainingChat (run: TaskRunData, options: TrainingChatOptions): TrainingChat {
  const tools = toolsOf(run, options)
  const strategy = options.dataStrategy
  if (strategy === 'two_message_cot' && options.thinkingInstructions === null) {
    throw new FormatError('THINKING_INSTRUCTIONS_REQUIRED', TWO_MESSAGE_COT_INSTRUCTIONS_REQUIRED)
  }
  const toolMessages = options.includeToolCalls !== false ? toolMessagesOf(run.trace) : []
  const base = { systemMessage: options.systemMessage, tools, finalReasoning: null, outputRules: 'chat' as const }
  switch (strategy) {
    case 'final_only':
    case 'final_and_intermediate':
      return trainingChatFromData(buildTrainingData(run, { ...options, dataStrategy: strategy }), toolMessages, tools)
    case 'two_message_cot': {
      const thinking = requiredThinking(run)
      const input = run.input
      // Kiln drops the wrapper when the input is a whole conversation (a full-trace eval description).
      const user = input.includes('<conversation_history>')
        ? `${input}\n\n${options.thinkingInstructions ?? ''}`
        : `The input is:\n<user_input>\n${input}\n</user_input>\n\n${options.thinkingInstructions ?? ''}`
      const messages = [text('user', user), ...toolMessages, text('assistant', thinking), text('user', COT_FINAL_ANSWER_PROMPT)]
      return { ...base, messages, finalOutput: finalOutputOf(run), finalPrefix: '' }
    }
    case 'final_and_intermediate_r1_compatible':
      return {
        ...base,
        messages: [text('user', run.input), ...toolMessages],
        finalOutput: finalOutputOf(run),
        finalPrefix: `<think>\n${reasoningModelThinking(run, options)}\n</think>\n\n`
      }
    case 'final_and_intermediate_reasoning_field':
      // The R1 checks and chat; the thinking goes beside the answer, which stays the plain output.
      return {
        ...base,
        messages: [text('user', run.input), ...toolMessages],
        finalOutput: finalOutputOf(run),
        finalPrefix: '',
        finalReasoning: reasoningModelThinking(run, options)
      }
    default:
      return exhaustive(strategy)
  }
}

/**
 * The thinking of a reasoning-model example (R1 and the reasoning field), with Kiln's R1 checks in
 * its order: thinking instructions refused (checked for truthiness: "" behaves like null), then
 * missing thinking, then blank thinking.
 */
function reasoningModelThinking (run: TaskRunData, options: TrainingChatOptions): string {
  if (options.thinkingInstructions) throw new FormatError('THINKING_INSTRUCTIONS_NOT_SUPPORTED', R1_INSTRUCTIONS_NOT_SUPPORTED)
  const thinking = requiredThinking(run)
  if (PYTHON_BLANK.test(thinking)) throw new FormatError('THINKING_DATA_BLANK', R1_THINKING_DATA_REQUIRED)
  return thinking
}

/** Kiln's `get_thinking_data`: the thinking text, which may be blank, or a refusal when there is none. */
function requiredThinking (run: TaskRunData): string {
  const thinking = thinkingTrainingData(run)
  if (thinking === null) throw new FormatError('THINKING_DATA_REQUIRED', THINKING_DATA_REQUIRED)
  return thinking
}

function finalOutputOf (run: TaskRunData): string {
  return run.repaired_output != null ? run.repaired_output.output : run.output.output
}

/** Compile-time proof that every strategy is handled (Kiln's `raise_exhaustive_enum_error`). */
function exhaustive (value: never): never {
  throw new Error(`unhandled data strategy ${String(value)}`)
}
