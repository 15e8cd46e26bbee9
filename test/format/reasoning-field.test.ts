import { describe, expect, it } from 'vitest'
import {
  R1_INSTRUCTIONS_NOT_SUPPORTED,
  R1_THINKING_DATA_REQUIRED,
  THINKING_DATA_REQUIRED,
  checkExportOptions,
  createLineFormatter,
  type DatasetFormat,
  type TaskRunData
} from '../../src/format/index.js'
import { formatErrorOf } from '../helpers/format-errors.js'

/*
 * final_and_intermediate_reasoning_field: the R1 checks, the thinking in `reasoning_content` on the
 * final assistant message. Expected lines as Python's `json.dumps(line, ensure_ascii=False)`.
 */

const STRATEGY = 'final_and_intermediate_reasoning_field'
const OPENAI_FORMATS = ['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl'] as const

function lineOf (format: DatasetFormat, run: TaskRunData, thinkingInstructions: string | null = null, options: { tools?: unknown[] } = {}): string {
  return createLineFormatter({ format, dataStrategy: STRATEGY, systemMessage: 'S', thinkingInstructions, ...options })(run)
}

const TEXT_RUN: TaskRunData = { id: '1', input: 'Combien font 2+2 ?', output: { output: 'Quatre.' }, intermediate_outputs: { reasoning: 'Deux et deux font quatre, évidemment.' } }
const JSON_RUN: TaskRunData = {
  id: '2',
  input: 'What is 2+2?',
  output: { output: '{"answer":"4 ✓"}' },
  repaired_output: { output: '{"answer":4,"unit":"€"}' },
  intermediate_outputs: { chain_of_thought: '2 plus 2 is 4.' }
}
const SYS_USER = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, '

describe('final_and_intermediate_reasoning_field', () => {
  it('openai_chat_jsonl: the answer as content, the thinking in reasoning_content', () => {
    expect(lineOf('openai_chat_jsonl', TEXT_RUN)).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Combien font 2+2 ?"}, ' +
      '{"role": "assistant", "content": "Quatre.", "reasoning_content": "Deux et deux font quatre, évidemment."}]}\n')
    // "" thinking instructions behave like null, as for R1.
    expect(lineOf('openai_chat_jsonl', TEXT_RUN, '')).toBe(lineOf('openai_chat_jsonl', TEXT_RUN))
  })

  it('openai_chat_json_schema_jsonl: parses the answer alone (the repaired output wins) and re-serialises it', () => {
    expect(lineOf('openai_chat_json_schema_jsonl', JSON_RUN)).toBe(SYS_USER +
      '{"role": "assistant", "content": "{\\"answer\\": 4, \\"unit\\": \\"€\\"}", "reasoning_content": "2 plus 2 is 4."}]}\n')
  })

  it('openai_chat_toolcall_jsonl: reasoning_content follows the task_response tool call', () => {
    expect(lineOf('openai_chat_toolcall_jsonl', JSON_RUN)).toBe(SYS_USER +
      '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", ' +
      '"arguments": "{\\"answer\\": 4, \\"unit\\": \\"€\\"}"}}], "reasoning_content": "2 plus 2 is 4."}]}\n')
  })

  it('puts a trace\'s tool calls after the user message, with the request\'s tools', () => {
    const trace = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', content: '18C', tool_call_id: 'call_a' },
      { role: 'assistant', content: '{"temp": 18}' }
    ]
    const run: TaskRunData = { id: '3', input: 'Weather in Paris?', output: { output: '{"temp": 18}' }, intermediate_outputs: { reasoning: 'Call the tool.' }, trace }
    const tools = [{ type: 'function', function: { name: 'get_weather' } }]
    expect(lineOf('openai_chat_toolcall_jsonl', run, null, { tools })).toBe(
      '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, ' +
      '{"role": "assistant", "content": "", "tool_calls": [{"id": "call_a", "function": {"arguments": "{\\"city\\":\\"Paris\\"}", "name": "get_weather"}, "type": "function"}]}, ' +
      '{"role": "tool", "content": "18C", "tool_call_id": "call_a"}, ' +
      '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", "arguments": "{\\"temp\\": 18}"}}], ' +
      '"reasoning_content": "Call the tool."}], "tools": [{"type": "function", "function": {"name": "get_weather"}}]}\n')
  })

  it('refuses as R1 does, in Kiln\'s order: instructions, missing thinking, blank thinking', () => {
    for (const format of OPENAI_FORMATS) {
      const instructions = formatErrorOf(() => lineOf(format, { ...JSON_RUN, intermediate_outputs: null }, 'Think.'))
      expect([instructions.code, instructions.message]).toEqual(['THINKING_INSTRUCTIONS_NOT_SUPPORTED', R1_INSTRUCTIONS_NOT_SUPPORTED])
      const missing = formatErrorOf(() => lineOf(format, { ...JSON_RUN, intermediate_outputs: { other: 'x' } }))
      expect([missing.code, missing.message, missing.runId]).toEqual(['THINKING_DATA_REQUIRED', THINKING_DATA_REQUIRED, '2'])
      const blank = formatErrorOf(() => lineOf(format, { ...JSON_RUN, intermediate_outputs: { reasoning: '', chain_of_thought: ' \n\t' } }))
      expect([blank.code, blank.message]).toEqual(['THINKING_DATA_BLANK', R1_THINKING_DATA_REQUIRED])
    }
  })

  it('needs a JSON object answer in the formats that parse it (the later strategies\' rule)', () => {
    const notJson = formatErrorOf(() => lineOf('openai_chat_json_schema_jsonl', TEXT_RUN))
    expect(notJson.code).toBe('OUTPUT_NOT_JSON')
    expect(notJson.message).toBe('Last message is not JSON (structured), and this format expects structured data: Expecting value: line 1 column 1 (char 0)')
    const list = formatErrorOf(() => lineOf('openai_chat_toolcall_jsonl', { ...TEXT_RUN, output: { output: '[4]' } }))
    expect(list.code).toBe('OUTPUT_NOT_OBJECT')
  })

  it('is refused for every format without a reasoning field, naming the formats that take it', () => {
    for (const format of ['huggingface_chat_template_jsonl', 'huggingface_chat_template_toolcall_jsonl', 'vertex_gemini_1_5', 'bedrock_conversation_jsonl'] as const) {
      const err = formatErrorOf(() => { checkExportOptions({ format, dataStrategy: STRATEGY }) })
      expect(err.code).toBe('STRATEGY_NOT_SUPPORTED')
      expect(err.message).toContain(`Format ${format} does not support data strategy ${STRATEGY}`)
      expect(err.message).toContain('openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl (the thinking goes in reasoning_content')
    }
  })
})
