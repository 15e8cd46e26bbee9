import { chatMessages, message } from './chat-messages.js'
import { TEXT_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/** `huggingface_chat_template_jsonl`: the OpenAI chat messages under `"conversations"`. */
export const huggingfaceChatTemplate: SftFormatGenerator = {
  kind: 'sft',
  description: 'Hugging Face chat template: {"conversations": [...]}, final output as plain text.',
  parsesOutput: false,
  strategies: TEXT_STRATEGIES,
  carriesTools: false,
  lineShape: 'huggingface_conversations',
  defaultProfile: 'huggingface',
  generate: (chat) => ({ conversations: chatMessages(chat, message('assistant', chat.finalPrefix + chat.finalOutput)) })
}
