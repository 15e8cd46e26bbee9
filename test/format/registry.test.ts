import { describe, expect, it } from 'vitest'
import { DATASET_FORMATS, DATA_STRATEGIES, FORMATS, isDatasetFormat } from '../../src/format/index.js'

describe('DATASET_FORMATS', () => {
  it('lists the six seed formats in Kiln\'s DatasetFormat order, then ours (Bedrock, then the preference formats)', () => {
    expect(DATASET_FORMATS).toEqual([
      'openai_chat_jsonl',
      'openai_chat_json_schema_jsonl',
      'openai_chat_toolcall_jsonl',
      'huggingface_chat_template_jsonl',
      'huggingface_chat_template_toolcall_jsonl',
      'vertex_gemini_1_5',
      'bedrock_conversation_jsonl',
      'openai_preference_jsonl',
      'huggingface_preference_jsonl',
      'vertex_gemini_preference'
    ])
  })

  it('has one generator per listed format and no other', () => {
    expect(Object.keys(FORMATS)).toEqual(DATASET_FORMATS)
  })
})

describe('DATA_STRATEGIES', () => {
  it('lists the two seed strategies first, then the two Kiln added later, then ours', () => {
    expect(DATA_STRATEGIES).toEqual(['final_only', 'final_and_intermediate', 'final_and_intermediate_r1_compatible', 'two_message_cot', 'final_and_intermediate_reasoning_field'])
  })

  it('gives the reasoning-field strategy to the OpenAI formats only', () => {
    const takers = DATASET_FORMATS.filter((format) => FORMATS[format].strategies.includes('final_and_intermediate_reasoning_field'))
    expect(takers).toEqual(['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl'])
  })
})

describe('isDatasetFormat', () => {
  const cases: ReadonlyArray<[string, boolean]> = [
    ['openai_chat_jsonl', true],
    ['openai_chat_json_schema_jsonl', true],
    ['openai_chat_toolcall_jsonl', true],
    ['huggingface_chat_template_jsonl', true],
    ['huggingface_chat_template_toolcall_jsonl', true],
    ['vertex_gemini_1_5', true],
    // The later name (Kiln 2025-04) is not valid at the seed.
    ['vertex_gemini', false],
    ['OPENAI_CHAT_JSONL', false],
    ['Openai_chat_jsonl', false],
    [' openai_chat_jsonl', false],
    ['openai_chat_jsonl ', false],
    ['openai_chat_jsonl_v2', false],
    ['openai_chat', false],
    ['', false],
    ['__proto__', false],
    ['toString', false],
    ['constructor', false],
    ['hasOwnProperty', false],
    ['valueOf', false]
  ]
  for (const [name, expected] of cases) {
    it(`${expected ? 'accepts' : 'rejects'} ${JSON.stringify(name)}`, () => {
      expect(isDatasetFormat(name)).toBe(expected)
    })
  }
})
