import { chatMessages, message } from './chat-messages.js'
import { DATA_STRATEGIES, type FormatGenerator } from './types.js'

/** `huggingface_chat_template_jsonl`: the OpenAI chat messages under `"conversations"`. */
export const huggingfaceChatTemplate: FormatGenerator = {
  description: 'Hugging Face chat template: {"conversations": [...]}, final output as plain text.',
  parsesOutput: false,
  strategies: DATA_STRATEGIES,
  carriesTools: false,
  generate: (chat) => ({ conversations: chatMessages(chat, message('assistant', chat.finalPrefix + chat.finalOutput)) })
}
