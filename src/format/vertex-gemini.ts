import { type PyDumpable } from './python-json.js'
import { supportsCot } from './training-data.js'
import { type FormatGenerator } from './types.js'

function content (role: 'user' | 'model', text: string): PyDumpable {
  return { role, parts: [{ text }] }
}

/** `vertex_gemini_1_5`: `systemInstruction` plus user/model `contents`; the output is not parsed. */
export const vertexGemini: FormatGenerator = {
  description: 'Vertex AI Gemini 1.5 tuning: {"systemInstruction": ..., "contents": [...]} with user/model roles.',
  parsesOutput: false,
  generate: (data) => {
    const contents: PyDumpable[] = [content('user', data.input)]
    if (supportsCot(data)) {
      contents.push(
        content('user', data.thinkingInstructions),
        content('model', data.thinking),
        content('user', data.thinkingFinalAnswerPrompt)
      )
    }
    contents.push(content('model', data.finalOutput))
    return { systemInstruction: { role: 'system', parts: [{ text: data.systemMessage }] }, contents }
  }
}
