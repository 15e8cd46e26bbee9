import { message } from './chat-messages.js'
import { PyNumber, type PyDumpable } from './python-json.js'
import { type DataStrategy } from './strategies.js'
import { type PreferenceFormatGenerator, type PreferencePair } from './types.js'

/*
 * The preference (DPO) formats: one line per pair, a prompt (system + user) and two answers, each
 * one assistant message. Which runs make pairs is preference-pairs.ts's job; these only shape.
 * Provider shapes: /work/notes/issue15-providers.md (OpenAI/Fireworks/Together DPO, TRL, Vertex).
 */

/** Thinking turns have no place in a one-assistant-message pair: only the final answer. */
const FINAL_ONLY: readonly DataStrategy[] = ['final_only']

const SCORE_PREFERRED = new PyNumber('1', true)
const SCORE_NON_PREFERRED = new PyNumber('0', true)

/** `openai_preference_jsonl`: OpenAI's DPO line, also read by Fireworks and Together. */
export const openaiPreference: PreferenceFormatGenerator = {
  kind: 'preference',
  description: 'Preference (DPO) pairs for OpenAI, Fireworks and Together: {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}.',
  parsesOutput: false,
  strategies: FINAL_ONLY,
  carriesTools: true,
  lineShape: 'openai_preference',
  // Fireworks and Together take these lines; OpenAI's platform is closing.
  defaultProfile: 'fireworks',
  generate: (pair: PreferencePair) => {
    const messages = [message('system', pair.systemMessage), message('user', pair.input)]
    const input: PyDumpable = pair.tools === null ? { messages } : { messages, tools: pair.tools }
    return {
      input,
      preferred_output: [message('assistant', pair.preferred)],
      non_preferred_output: [message('assistant', pair.nonPreferred)]
    }
  }
}

/** `huggingface_preference_jsonl`: TRL's conversational preference type; no tools (as Kiln's HF formats). */
export const huggingfacePreference: PreferenceFormatGenerator = {
  kind: 'preference',
  description: 'Preference (DPO) pairs in TRL\'s conversational preference type: {"prompt": [...], "chosen": [...], "rejected": [...]}.',
  parsesOutput: false,
  strategies: FINAL_ONLY,
  carriesTools: false,
  lineShape: 'huggingface_preference',
  defaultProfile: 'huggingface',
  generate: (pair: PreferencePair) => ({
    prompt: [message('system', pair.systemMessage), message('user', pair.input)],
    chosen: [message('assistant', pair.preferred)],
    rejected: [message('assistant', pair.nonPreferred)]
  })
}

const parts = (text: string): PyDumpable => [{ text }]

/** `vertex_gemini_preference`: Vertex preference tuning (snake_case `system_instruction`, contents end with the user turn). */
export const vertexGeminiPreference: PreferenceFormatGenerator = {
  kind: 'preference',
  description: 'Preference pairs for Vertex AI Gemini preference tuning: {"system_instruction": ..., "contents": [user], "completions": [{"score": 1, ...}, {"score": 0, ...}]}.',
  parsesOutput: false,
  strategies: FINAL_ONLY,
  carriesTools: false,
  lineShape: 'vertex_preference',
  defaultProfile: 'vertex_gemini',
  generate: (pair: PreferencePair) => ({
    system_instruction: { parts: parts(pair.systemMessage) },
    contents: [{ role: 'user', parts: parts(pair.input) }],
    completions: [
      { score: SCORE_PREFERRED, completion: { role: 'model', parts: parts(pair.preferred) } },
      { score: SCORE_NON_PREFERRED, completion: { role: 'model', parts: parts(pair.nonPreferred) } }
    ]
  })
}
