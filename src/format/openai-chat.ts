import { chatMessages, message } from './chat-messages.js'
import { type FormatGenerator } from './types.js'

/** `openai_chat_jsonl`: `{"messages": [...]}` with the final output passed through verbatim. */
export const openaiChat: FormatGenerator = {
  description: 'OpenAI chat fine-tuning: {"messages": [...]}, final output as plain text.',
  parsesOutput: false,
  generate: (data) => ({ messages: chatMessages(data, message('assistant', data.finalOutput)) })
}
