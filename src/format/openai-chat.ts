import { finalAssistantMessage, openaiLine } from './chat-messages.js'
import { DATA_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/** `openai_chat_jsonl`: `{"messages": [...]}` with the final output passed through verbatim (and any thinking in `reasoning_content`). */
export const openaiChat: SftFormatGenerator = {
  kind: 'sft',
  description: 'OpenAI chat fine-tuning: {"messages": [...]}, final output as plain text.',
  parsesOutput: false,
  strategies: DATA_STRATEGIES,
  carriesTools: true,
  lineShape: 'openai_messages',
  // Kiln fine-tunes these lines on Fireworks (and Together) now; OpenAI's platform is closing.
  defaultProfile: 'fireworks',
  generate: (chat) => openaiLine(chat, finalAssistantMessage(chat, { role: 'assistant', content: chat.finalPrefix + chat.finalOutput }))
}
