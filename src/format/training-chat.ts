import { FormatError } from './errors.js'
import { fromJsJson } from './js-json.js'
import { type PyDumpable } from './python-json.js'
import { COT_FINAL_ANSWER_PROMPT, buildTrainingData, supportsCot } from './training-data.js'
import { type ChatMessage, type DataStrategy, type TaskRunData, type TraceMessage, type TrainingChat, type TrainingData } from './types.js'

/** Everything that decides how a run becomes a training chat. */
export interface TrainingChatOptions {
  readonly systemMessage: string
  readonly thinkingInstructions: string | null
  readonly dataStrategy: DataStrategy
  /** Put the run's trace tool calls and tool responses before the final answer. */
  readonly includeToolCalls?: boolean
  /** Function definitions to send with each example (OpenAI `tools`, Vertex `functionDeclarations`). */
  readonly tools?: readonly unknown[] | null
}

/** Kiln's message (since 2025-06) when a thinking strategy meets a run without thinking data. */
export const THINKING_DATA_REQUIRED =
  'Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.'
/** Kiln's R1 message for missing or blank thinking. */
export const R1_THINKING_DATA_REQUIRED =
  'Thinking data is required when fine-tuning thinking models (R1, QwQ, etc). Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.'

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
      messages.push({ kind: 'tool_call', content: textOf(message.content), toolCalls: message.tool_calls.map(fromJsJson) })
    } else if (message.role === 'tool') {
      if (message.tool_call_id == null) throw new FormatError('TRACE_INVALID', 'Tool call ID is required for tool response messages')
      if (message.content == null) throw new FormatError('TRACE_INVALID', 'Content is required for tool response messages')
      const content = typeof message.content === 'string' ? message.content : JSON.stringify(message.content)
      messages.push({ kind: 'tool_response', content, toolCallId: String(message.tool_call_id) })
    }
  }
  return messages
}

const text = (role: 'user' | 'assistant', content: string): ChatMessage => ({ kind: 'text', role, content })

/**
 * The chat of a seed-strategy example (Kiln's ModelTrainingData): system, user, the three COT
 * turns when the record supports COT, the final answer. Trace tool messages go after the user
 * turns, before the thinking.
 */
export function trainingChatFromData (data: TrainingData, toolMessages: readonly ChatMessage[] = [], tools: readonly PyDumpable[] | null = null): TrainingChat {
  const base = { systemMessage: data.systemMessage, tools, finalOutput: data.finalOutput, finalPrefix: '' }
  if (!supportsCot(data)) return { ...base, messages: [text('user', data.input), ...toolMessages] }
  return {
    ...base,
    messages: [
      text('user', data.input), text('user', data.thinkingInstructions), ...toolMessages,
      text('assistant', data.thinking), text('user', data.thinkingFinalAnswerPrompt)
    ]
  }
}

/**
 * Build the training chat of one run. The seed strategies follow Kiln's `build_training_data` at
 * the seed commit exactly (so their lines stay byte-identical); the later ones follow Kiln's chat
 * formatter (spec section 10). Trace tool messages go after the user turn(s), before any thinking.
 */
export function buildTrainingChat (run: TaskRunData, options: TrainingChatOptions): TrainingChat {
  const toolMessages = options.includeToolCalls === true ? toolMessagesOf(run.trace) : []
  const tools: readonly PyDumpable[] | null = options.tools != null && options.tools.length > 0 ? options.tools.map(fromJsJson) : null
  const base = { systemMessage: options.systemMessage, tools }
  const strategy = options.dataStrategy
  switch (strategy) {
    case 'final_only':
    case 'final_and_intermediate':
      return trainingChatFromData(buildTrainingData(run, { ...options, dataStrategy: strategy }), toolMessages, tools)
    case 'two_message_cot': {
      const thinking = thinkingTrainingData(run)
      if (thinking === null) throw new FormatError('THINKING_DATA_REQUIRED', THINKING_DATA_REQUIRED)
      const user = `The input is:\n<user_input>\n${run.input}\n</user_input>\n\n${options.thinkingInstructions ?? ''}`
      const messages = [text('user', user), ...toolMessages, text('assistant', thinking), text('user', COT_FINAL_ANSWER_PROMPT)]
      return { ...base, messages, finalOutput: finalOutputOf(run), finalPrefix: '' }
    }
    case 'final_and_intermediate_r1_compatible': {
      const thinking = thinkingTrainingData(run)
      if (thinking === null || PYTHON_BLANK.test(thinking)) throw new FormatError('THINKING_DATA_REQUIRED', R1_THINKING_DATA_REQUIRED)
      return {
        ...base,
        messages: [text('user', run.input), ...toolMessages],
        finalOutput: finalOutputOf(run),
        finalPrefix: `<think>\n${thinking}\n</think>\n\n`
      }
    }
    default:
      return exhaustive(strategy)
  }
}

function finalOutputOf (run: TaskRunData): string {
  return run.repaired_output != null ? run.repaired_output.output : run.output.output
}

/** Compile-time proof that every strategy is handled (Kiln's `raise_exhaustive_enum_error`). */
function exhaustive (value: never): never {
  throw new Error(`unhandled data strategy ${String(value)}`)
}
