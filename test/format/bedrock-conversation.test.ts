import { describe, expect, it } from 'vitest'
import { checkExportOptions, createLineFormatter, type DataStrategy, type TaskRunData } from '../../src/format/index.js'
import { formatErrorOf } from '../helpers/format-errors.js'

/*
 * bedrock_conversation_jsonl, one expected line per strategy, written out as Python's
 * `json.dumps(line, ensure_ascii=False)` writes it (", " and ": ", non-ASCII kept).
 */

const P = 'Considering the above, return a final result.'
const RUN: TaskRunData = {
  id: '1',
  input: 'Où est ma commande ? 📦',
  output: { output: 'Elle arrive demain.' },
  intermediate_outputs: { chain_of_thought: 'Le client écrit en français.' }
}

function lineOf (run: TaskRunData, dataStrategy: DataStrategy, thinkingInstructions: string | null, extra: { systemMessage?: string, includeToolCalls?: boolean } = {}): string {
  return createLineFormatter({ format: 'bedrock_conversation_jsonl', dataStrategy, systemMessage: 'Sois bref.', thinkingInstructions, ...extra })(run)
}

const head = (system = 'Sois bref.'): string => `{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "${system}"}], "messages": [`

describe('bedrock_conversation_jsonl', () => {
  it('final_only: one user message and the answer', () => {
    expect(lineOf(RUN, 'final_only', null)).toBe(head() +
      '{"role": "user", "content": [{"text": "Où est ma commande ? 📦"}]}, {"role": "assistant", "content": [{"text": "Elle arrive demain."}]}]}\n')
  })

  it('final_and_intermediate: the input and the thinking instructions are two text blocks of one user message, so turns alternate', () => {
    expect(lineOf(RUN, 'final_and_intermediate', 'Réfléchis.')).toBe(head() +
      '{"role": "user", "content": [{"text": "Où est ma commande ? 📦"}, {"text": "Réfléchis."}]}, ' +
      '{"role": "assistant", "content": [{"text": "Le client écrit en français."}]}, ' +
      `{"role": "user", "content": [{"text": "${P}"}]}, ` +
      '{"role": "assistant", "content": [{"text": "Elle arrive demain."}]}]}\n')
    // Without thinking data the run is a final_only line, as in Kiln's seed layout.
    expect(lineOf({ ...RUN, intermediate_outputs: null }, 'final_and_intermediate', 'Réfléchis.')).toBe(lineOf(RUN, 'final_only', null))
  })

  it('final_and_intermediate_r1_compatible: the <think> block starts the answer text', () => {
    expect(lineOf(RUN, 'final_and_intermediate_r1_compatible', null)).toBe(head() +
      '{"role": "user", "content": [{"text": "Où est ma commande ? 📦"}]}, ' +
      '{"role": "assistant", "content": [{"text": "<think>\\nLe client écrit en français.\\n</think>\\n\\nElle arrive demain."}]}]}\n')
  })

  it('two_message_cot: user, thinking, final-answer prompt, answer', () => {
    expect(lineOf(RUN, 'two_message_cot', 'Réfléchis.')).toBe(head() +
      '{"role": "user", "content": [{"text": "The input is:\\n<user_input>\\nOù est ma commande ? 📦\\n</user_input>\\n\\nRéfléchis."}]}, ' +
      '{"role": "assistant", "content": [{"text": "Le client écrit en français."}]}, ' +
      `{"role": "user", "content": [{"text": "${P}"}]}, ` +
      '{"role": "assistant", "content": [{"text": "Elle arrive demain."}]}]}\n')
  })

  it('writes an empty system message as an empty text block (Kiln always writes the system message; Bedrock accepts it)', () => {
    expect(lineOf(RUN, 'final_only', null, { systemMessage: '' })).toBe(head('') +
      '{"role": "user", "content": [{"text": "Où est ma commande ? 📦"}]}, {"role": "assistant", "content": [{"text": "Elle arrive demain."}]}]}\n')
  })

  it('refuses a run whose trace has tool calls, unless include_tool_calls is false', () => {
    const trace = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
      { role: 'tool', content: 'sunny', tool_call_id: 'c1' },
      { role: 'assistant', content: 'Sunny.' }
    ]
    const run: TaskRunData = { id: '7', input: 'Weather?', output: { output: 'Sunny.' }, trace }
    const err = formatErrorOf(() => lineOf(run, 'final_only', null))
    expect(err.code).toBe('TOOL_CALLS_NOT_SUPPORTED')
    expect(err.runId).toBe('7')
    expect(err.message).toContain('"include_tool_calls": false')
    expect(lineOf(run, 'final_only', null, { includeToolCalls: false })).toBe(head() +
      '{"role": "user", "content": [{"text": "Weather?"}]}, {"role": "assistant", "content": [{"text": "Sunny."}]}]}\n')
    // A trace without tool calls is no problem.
    expect(lineOf({ ...run, trace: [{ role: 'user', content: 'Weather?' }, { role: 'assistant', content: 'Sunny.' }] }, 'final_only', null)).toContain('"Sunny."')
  })

  it('keeps the R1 refusals, and refuses the reasoning-field strategy for the whole request', () => {
    expect(formatErrorOf(() => lineOf({ ...RUN, intermediate_outputs: null }, 'final_and_intermediate_r1_compatible', null)).code).toBe('THINKING_DATA_REQUIRED')
    const err = formatErrorOf(() => { checkExportOptions({ format: 'bedrock_conversation_jsonl', dataStrategy: 'final_and_intermediate_reasoning_field' }) })
    expect(err.code).toBe('STRATEGY_NOT_SUPPORTED')
    expect(err.message).toBe('Format bedrock_conversation_jsonl does not support data strategy final_and_intermediate_reasoning_field: ' +
      'use one of final_only, final_and_intermediate, final_and_intermediate_r1_compatible, two_message_cot, ' +
      'or a format that takes final_and_intermediate_reasoning_field: openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl ' +
      '(the thinking goes in reasoning_content, a field only the OpenAI formats have) (GET /formats)')
  })
})
