import { finalAssistantMessage, openaiLine } from './chat-messages.js'
import { parseAnswer, quoteOutput } from './parse-output.js'
import { dumpPythonJson } from './python-json.js'
import { DATA_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator } from './types.js'

/**
 * `openai_chat_json_schema_jsonl`: like OpenAI chat, but the final output is parsed and
 * re-serialised the Python way (whitespace normalised, key order kept, Python number spelling).
 */
export const openaiJsonSchema: SftFormatGenerator = {
  kind: 'sft',
  description: 'OpenAI chat for structured tasks: the final output is re-serialised JSON text.',
  parsesOutput: true,
  strategies: DATA_STRATEGIES,
  carriesTools: true,
  lineShape: 'openai_messages',
  // Kiln fine-tunes these lines on Fireworks (and Together) now; OpenAI's platform is closing.
  defaultProfile: 'fireworks',
  generate: (chat) => {
    const value = parseAnswer(
      chat,
      (pythonError) => `Invalid JSON in JSON Schema training set: ${pythonError}\nOutput Data: ${quoteOutput(chat.finalOutput)}`
    )
    // Lone surrogates stay raw here so the line writer reports them where Python would.
    const content = dumpPythonJson(value, { keepLoneSurrogates: true })
    return openaiLine(chat, finalAssistantMessage(chat, { role: 'assistant', content }))
  }
}
