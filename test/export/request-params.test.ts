import { describe, expect, it } from 'vitest'
import { exportParams } from '../../src/export/request-params.js'

describe('exportParams', () => {
  it('fills the API defaults and resolves the format name', () => {
    expect(exportParams({ split_name: 'train', format: 'openai_chat_jsonl', system_message: '' })).toEqual({
      splitName: 'train',
      format: 'openai_chat_jsonl',
      formatName: 'openai_chat_jsonl',
      dataStrategy: 'final_only',
      systemMessage: '',
      thinkingInstructions: null,
      includeToolCalls: true,
      tools: null
    })
  })

  it('keeps an alias as the requested name and passes every given field through', () => {
    const tools = [{ type: 'function', function: { name: 'add' } }]
    expect(exportParams({
      split_name: 'test',
      format: 'vertex_gemini',
      data_strategy: 'two_message_cot',
      system_message: 'S',
      thinking_instructions: '',
      include_tool_calls: false,
      tools
    })).toEqual({
      splitName: 'test',
      format: 'vertex_gemini_1_5',
      formatName: 'vertex_gemini',
      dataStrategy: 'two_message_cot',
      systemMessage: 'S',
      thinkingInstructions: '',
      includeToolCalls: false,
      tools
    })
  })

  it('leaves splitName out when no split is named (a validation of every split)', () => {
    expect(exportParams({ format: 'openai_chat_jsonl', system_message: '' })).not.toHaveProperty('splitName')
  })
})
