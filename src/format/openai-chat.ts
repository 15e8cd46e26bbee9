import { message, openaiLine } from './chat-messages.js'
import { DATA_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/** `openai_chat_jsonl`: `{"messages": [...]}` with the final output passed through verbatim. */
export const openaiChat: SftFormatGenerator = {
  kind: 'sft',
  description: 'OpenAI chat fine-tuning: {"messages": [...]}, final output as plain text.',
  parsesOutput: false,
  strategies: DATA_STRATEGIES,
  carriesTools: true,
  lineShape: 'openai_messages',
  defaultProfile: 'openai',
  generate: (chat) => openaiLine(chat, message('assistant', chat.finalPrefix + chat.finalOutput))
}
