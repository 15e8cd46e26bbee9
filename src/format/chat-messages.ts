import { type PyDumpable } from './python-json.js'
import { supportsCot } from './training-data.js'
import { type TrainingData } from './types.js'

/** One `{"role", "content"}` message, keys in Kiln's order. */
export function message (role: string, content: string | null): PyDumpable {
  return { role, content }
}

/**
 * The OpenAI/Hugging Face message list: system, user, the three COT turns when the example has
 * thinking, then the given final message.
 */
export function chatMessages (data: TrainingData, finalMessage: PyDumpable): PyDumpable[] {
  const messages: PyDumpable[] = [message('system', data.systemMessage), message('user', data.input)]
  if (supportsCot(data)) {
    messages.push(
      message('user', data.thinkingInstructions),
      message('assistant', data.thinking),
      message('user', data.thinkingFinalAnswerPrompt)
    )
  }
  messages.push(finalMessage)
  return messages
}
