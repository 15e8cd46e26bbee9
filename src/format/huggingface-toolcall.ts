import { chatMessages } from './chat-messages.js'
import { parseAnswer } from './parse-output.js'
import { TOOL_CALL_INVALID_JSON } from './openai-toolcall.js'
import { TEXT_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/**
 * `huggingface_chat_template_toolcall_jsonl`: the final answer is a tool call whose `arguments`
 * is the parsed output as a JSON value; the message has no `content` and the random 9-hex id sits
 * inside `function`, between `name` and `arguments`, as Kiln writes it.
 */
export const huggingfaceToolcall: SftFormatGenerator = {
  kind: 'sft',
  description: 'Hugging Face chat template with the final answer as a tool call (arguments as a JSON value, random id).',
  parsesOutput: true,
  strategies: TEXT_STRATEGIES,
  carriesTools: false,
  lineShape: 'huggingface_conversations',
  defaultProfile: 'huggingface',
  generate: (chat, context) => {
    const value = parseAnswer(chat, (pythonError) => `${TOOL_CALL_INVALID_JSON}: ${pythonError}`)
    const toolCall = {
      type: 'function',
      function: { name: 'task_response', id: context.randomToolCallId(), arguments: value }
    }
    return { conversations: chatMessages(chat, { role: 'assistant', tool_calls: [toolCall] }) }
  }
}
