import { finalAssistantMessage, openaiLine } from './chat-messages.js'
import { parseAnswer } from './parse-output.js'
import { dumpPythonJson } from './python-json.js'
import { DATA_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/** Kiln's tool-call error text, typo ("in for") included: clients may match on it. */
export const TOOL_CALL_INVALID_JSON = 'Invalid JSON in for tool call'

/**
 * `openai_chat_toolcall_jsonl`: the final answer is a `task_response` tool call whose `arguments`
 * is the re-serialised output as a JSON string; `content` is null and the id is always `call_1`
 * (with the reasoning field, `reasoning_content` comes after `tool_calls`).
 */
export const openaiToolcall: SftFormatGenerator = {
  kind: 'sft',
  description: 'OpenAI chat with the final answer as a task_response tool call (arguments as a JSON string).',
  parsesOutput: true,
  strategies: DATA_STRATEGIES,
  carriesTools: true,
  lineShape: 'openai_messages',
  // Kiln fine-tunes these lines on Fireworks (and Together) now; OpenAI's platform is closing.
  defaultProfile: 'fireworks',
  generate: (chat) => {
    const value = parseAnswer(chat, (pythonError) => `${TOOL_CALL_INVALID_JSON}: ${pythonError}`)
    const toolCall = {
      id: 'call_1',
      type: 'function',
      function: { name: 'task_response', arguments: dumpPythonJson(value, { keepLoneSurrogates: true }) }
    }
    // With the reasoning field, reasoning_content follows tool_calls: Kiln's keys keep their order.
    return openaiLine(chat, finalAssistantMessage(chat, { role: 'assistant', content: null, tool_calls: [toolCall] }))
  }
}
