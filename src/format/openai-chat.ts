import { message, openaiLine } from './chat-messages.js'
import { type FormatGenerator } from './types.js'
import { DATA_STRATEGIES } from './types.js'

/** `openai_chat_jsonl`: `{"messages": [...]}` with the final output passed through verbatim. */
export const openaiChat: FormatGenerator = {
  description: 'OpenAI chat fine-tuning: {"messages": [...]}, final output as plain text.',
  parsesOutput: false,
  strategies: DATA_STRATEGIES,
  carriesTools: true,
  generate: (chat) => openaiLine(chat, message('assistant', chat.finalPrefix + chat.finalOutput))
}
