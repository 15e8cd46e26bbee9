import { chatMessages, message } from './chat-messages.js'
import { type FormatGenerator } from './types.js'

/** `huggingface_chat_template_jsonl`: the OpenAI chat messages under `"conversations"`. */
export const huggingfaceChatTemplate: FormatGenerator = {
  description: 'Hugging Face chat template: {"conversations": [...]}, final output as plain text.',
  parsesOutput: false,
  generate: (data) => ({ conversations: chatMessages(data, message('assistant', data.finalOutput)) })
}
