import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROVIDER_PROFILES, resolveFormat } from '../../src/format/index.js'
import { RecordKindCheck, checkProviderLine, formatsOfProfile } from '../../src/validate/index.js'
import { loadFixtures } from '../helpers/conformance.js'

const codes = (profile: Parameters<typeof checkProviderLine>[0], line: unknown): string[] => checkProviderLine(profile, line).map((f) => f.code)

const OPENAI_LINE = {
  messages: [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'I' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get', arguments: '{"x": 1}' } }] },
    { role: 'tool', content: 'r', tool_call_id: 'call_a' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'task_response', arguments: '{"a": 1}' } }] }
  ],
  tools: [{ type: 'function', function: { name: 'get' } }]
}

const VERTEX_LINE = {
  systemInstruction: { role: 'system', parts: [{ text: 'S' }] },
  contents: [
    { role: 'user', parts: [{ text: 'I' }] },
    { role: 'model', parts: [{ functionCall: { name: 'get', args: { x: 1 } } }] },
    { parts: [{ functionResponse: { name: 'get', response: { content: 'r' } } }] },
    { role: 'model', parts: [{ text: 'F' }] }
  ],
  tools: [{ functionDeclarations: [{ name: 'get' }] }]
}

const HF_LINE = {
  conversations: [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'I' },
    { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'task_response', id: 'abcdef012', arguments: { a: 1 } } }] }
  ]
}

describe('the OpenAI rules', () => {
  it('pass a chat line with tool calls, tool responses and tools', () => {
    expect(checkProviderLine('openai', OPENAI_LINE)).toEqual([])
  })

  it('refuse tool-call arguments that are an object instead of a JSON string, or a string that is not JSON', () => {
    const asObject = { messages: [{ role: 'user', content: 'I' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }] }
    expect(checkProviderLine('openai', asObject)).toEqual([{
      code: 'OPENAI_TOOL_ARGUMENTS_NOT_STRING',
      severity: 'error',
      message: 'messages[1].tool_calls[0].function.arguments must be a JSON string for OpenAI, not an object'
    }])
    const notJson = { messages: [{ role: 'user', content: 'I' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{a: 1}' } }] }] }
    expect(codes('openai', notJson)).toEqual(['OPENAI_TOOL_ARGUMENTS_NOT_JSON'])
  })

  it('refuse unknown keys and roles, a missing content, and an example without an assistant message', () => {
    const line = { messages: [{ role: 'system', content: 'S', extra: 1 }, { role: 'model', content: 'F' }, { role: 'user', content: '' }], id: 7 }
    expect(codes('openai', line)).toEqual(['OPENAI_UNKNOWN_LINE_KEY', 'OPENAI_UNKNOWN_MESSAGE_KEY', 'OPENAI_UNKNOWN_ROLE', 'OPENAI_MISSING_CONTENT', 'OPENAI_NO_ASSISTANT_MESSAGE'])
    expect(checkProviderLine('openai', line)[2]?.message).toBe('messages[1].role "model" is not one of system, user, assistant, tool, function')
  })

  it('refuse a Hugging Face line: its key and no messages', () => {
    expect(codes('openai', HF_LINE)).toEqual(['OPENAI_UNKNOWN_LINE_KEY', 'OPENAI_MISSING_MESSAGES'])
  })

  it('refuse a tool response without its tool_call_id, and tools that are not function definitions', () => {
    const line = { messages: [{ role: 'tool', content: 'r' }, { role: 'assistant', content: 'F' }], tools: [{ name: 'f' }] }
    expect(codes('openai', line)).toEqual(['OPENAI_TOOL_CALL_ID_MISSING', 'OPENAI_INVALID_TOOLS'])
  })

  it('name an empty system message as such (OpenAI refuses it)', () => {
    const line = { messages: [{ role: 'system', content: '' }, { role: 'user', content: 'I' }, { role: 'assistant', content: 'F' }] }
    expect(checkProviderLine('openai', line)).toEqual([{ code: 'OPENAI_MISSING_CONTENT', severity: 'error', message: 'messages[0] is an empty system message: OpenAI refuses it (send a non-empty system_message)' }])
  })

  it('report a code once per line, at its first place', () => {
    const line = { messages: [{ role: 'user', content: '' }, { role: 'user', content: '' }, { role: 'assistant', content: 'F' }] }
    expect(checkProviderLine('openai', line)).toEqual([{ code: 'OPENAI_MISSING_CONTENT', severity: 'error', message: 'messages[0] has no content (a non-empty string is needed)' }])
  })
})

describe('the Vertex Gemini rules', () => {
  it('pass a line with a system instruction, function calls, role-less function responses and tools', () => {
    expect(checkProviderLine('vertex_gemini', VERTEX_LINE)).toEqual([])
  })

  it('refuse roles other than user and model, and a line without a model turn', () => {
    const line = { contents: [{ role: 'user', parts: [{ text: 'I' }] }, { role: 'assistant', parts: [{ text: 'F' }] }] }
    expect(checkProviderLine('vertex_gemini', line)).toEqual([
      { code: 'VERTEX_INVALID_ROLE', severity: 'error', message: 'contents[1].role "assistant" is not one of user, model' },
      { code: 'VERTEX_NO_MODEL_TURN', severity: 'error', message: 'The example has no model turn to learn from' }
    ])
  })

  it('refuse a system instruction without text parts, and parts that hold nothing or two things', () => {
    const line = {
      systemInstruction: { role: 'system', text: 'S' },
      contents: [{ role: 'user', parts: [{}] }, { role: 'model', parts: [{ text: 'F', functionCall: { name: 'f', args: {} } }] }]
    }
    expect(codes('vertex_gemini', line)).toEqual(['VERTEX_INVALID_SYSTEM_INSTRUCTION', 'VERTEX_INVALID_PART'])
  })

  it('refuse function-call arguments that are not an object, missing parts and unknown keys', () => {
    const line = { messages: [], contents: [{ role: 'user', parts: [] }, { role: 'model', parts: [{ functionCall: { name: 'f', args: '{}' } }] }] }
    expect(codes('vertex_gemini', line)).toEqual(['VERTEX_UNKNOWN_LINE_KEY', 'VERTEX_MISSING_PARTS', 'VERTEX_FUNCTION_ARGS_NOT_OBJECT'])
  })

  it('refuse an OpenAI line', () => {
    expect(codes('vertex_gemini', OPENAI_LINE)).toEqual(['VERTEX_UNKNOWN_LINE_KEY', 'VERTEX_MISSING_CONTENTS'])
  })
})

describe('the Hugging Face rules', () => {
  it('pass a chat-template line whose tool-call arguments are an object', () => {
    expect(checkProviderLine('huggingface', HF_LINE)).toEqual([])
  })

  it('refuse tool-call arguments that are a JSON string', () => {
    const line = { conversations: [{ role: 'user', content: 'I' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"a": 1}' } }] }] }
    expect(checkProviderLine('huggingface', line)).toEqual([{
      code: 'HF_TOOL_ARGUMENTS_NOT_OBJECT',
      severity: 'error',
      message: 'conversations[1].tool_calls[0].function.arguments must be an object for chat templates, not a JSON string'
    }])
  })

  it('refuse unknown roles and messages without content, and warn about other columns', () => {
    const line = { conversations: [{ role: 'human', content: 'I' }, { role: 'assistant' }], id: 1 }
    expect(checkProviderLine('huggingface', line).map((f) => [f.code, f.severity])).toEqual([
      ['HF_UNKNOWN_LINE_KEY', 'warning'], ['HF_UNKNOWN_ROLE', 'error'], ['HF_MISSING_CONTENT', 'error']
    ])
  })

  it('refuse an OpenAI line (no conversations) and anything that is not an object', () => {
    expect(codes('huggingface', OPENAI_LINE)).toContain('HF_MISSING_CONVERSATIONS')
    expect(codes('huggingface', [])).toEqual(['HF_LINE_NOT_OBJECT'])
  })
})

/** A preference line as the openai_preference_jsonl format writes it. */
const PREFERENCE_LINE = {
  input: { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'I' }], tools: [{ type: 'function', function: { name: 'get' } }] },
  preferred_output: [{ role: 'assistant', content: 'good' }],
  non_preferred_output: [{ role: 'assistant', content: 'bad' }]
}

describe('the Fireworks rules', () => {
  it('pass an OpenAI chat line with tools, weights 0 and 1, and reasoning_content on an assistant turn', () => {
    expect(checkProviderLine('fireworks', OPENAI_LINE)).toEqual([])
    const line = {
      messages: [
        { role: 'system', content: '' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4', reasoning_content: 'Add them.', weight: 0 },
        { role: 'user', content: 'And 3+3?' },
        { role: 'assistant', content: '6', reasoning_content: 'Add again.', weight: 1 }
      ]
    }
    expect(checkProviderLine('fireworks', line)).toEqual([])
  })

  it('refuse a weight other than 0 or 1, reasoning on a user turn, a late system message and unknown keys', () => {
    const line = {
      messages: [
        { role: 'user', content: 'I', reasoning_content: 'no', weight: 0.5 },
        { role: 'system', content: 'S' },
        { role: 'assistant', content: 'F', reasoning: 'Together\'s name' }
      ],
      id: 1
    }
    expect(checkProviderLine('fireworks', line)).toEqual([
      { code: 'FIREWORKS_UNKNOWN_LINE_KEY', severity: 'error', message: 'The line has id; the chat format allows messages, tools' },
      { code: 'FIREWORKS_INVALID_WEIGHT', severity: 'error', message: 'messages[0].weight must be 0 or 1, not 0.5' },
      { code: 'FIREWORKS_INVALID_REASONING', severity: 'error', message: 'messages[0] has reasoning_content: only assistant messages carry reasoning' },
      { code: 'FIREWORKS_UNKNOWN_MESSAGE_KEY', severity: 'error', message: 'messages[2] has reasoning; it allows role, content, weight, reasoning_content, tool_calls, tool_call_id' },
      { code: 'FIREWORKS_SYSTEM_NOT_FIRST', severity: 'error', message: 'messages[1] is a system message: Fireworks allows one, as the first message' }
    ])
  })

  it('refuse a missing content, a non-string reasoning, true as a weight and a line without an assistant turn; warn when every assistant weight is 0', () => {
    expect(codes('fireworks', { messages: [{ role: 'user' }, { role: 'tool', content: 'r' }] })).toEqual(['FIREWORKS_MISSING_CONTENT', 'FIREWORKS_TOOL_CALL_ID_MISSING', 'FIREWORKS_NO_ASSISTANT_MESSAGE'])
    expect(codes('fireworks', { messages: [{ role: 'user', content: 'I', weight: true }, { role: 'assistant', content: 'F', reasoning_content: 1 }] })).toEqual(['FIREWORKS_INVALID_WEIGHT', 'FIREWORKS_INVALID_REASONING'])
    expect(checkProviderLine('fireworks', { messages: [{ role: 'user', content: 'I' }, { role: 'assistant', content: 'F', weight: 0 }] })).toEqual([
      { code: 'FIREWORKS_ALL_ASSISTANT_WEIGHTS_ZERO', severity: 'warning', message: 'Every assistant message has weight 0: the example trains nothing' }
    ])
    expect(codes('fireworks', HF_LINE)).toEqual(['FIREWORKS_UNKNOWN_LINE_KEY', 'FIREWORKS_MISSING_MESSAGES'])
    expect(codes('fireworks', 'text')).toEqual(['FIREWORKS_LINE_NOT_OBJECT'])
  })

  it('check a preference line as one: one-turn input ending with the user message, one assistant message each side', () => {
    expect(checkProviderLine('fireworks', PREFERENCE_LINE)).toEqual([])
    const multiTurn = { ...PREFERENCE_LINE, input: { messages: [{ role: 'user', content: 'I' }, { role: 'assistant', content: 'A' }, { role: 'user', content: 'J' }] } }
    expect(checkProviderLine('fireworks', multiTurn)).toEqual([{
      code: 'FIREWORKS_PREFERENCE_MULTI_TURN',
      severity: 'error',
      message: 'input.messages[1] is an assistant turn: only one-turn conversations are supported (system and user, then the two answers)'
    }])
  })
})

describe('the preference rules (OpenAI, Fireworks, Together)', () => {
  it('pass the preference line on every profile that reads OpenAI lines', () => {
    for (const profile of ['openai', 'fireworks', 'together'] as const) expect(checkProviderLine(profile, PREFERENCE_LINE)).toEqual([])
  })

  it('refuse an input that does not end with a user message, outputs that are not one assistant message, and extra keys', () => {
    const line = {
      input: { messages: [{ role: 'system', content: 'S' }], parallel_tool_calls: false },
      preferred_output: [{ role: 'assistant', content: 'good' }, { role: 'assistant', content: 'more' }],
      non_preferred_output: { role: 'assistant', content: 'bad' },
      messages: []
    }
    expect(checkProviderLine('together', line)).toEqual([
      { code: 'TOGETHER_MIXED_LINE_KINDS', severity: 'error', message: 'The line has the keys of conversational and preference records: Together rejects a file with two formats' }
    ])
    const { messages: _dropped, ...preference } = line
    expect(checkProviderLine('together', preference)).toEqual([
      { code: 'TOGETHER_PREFERENCE_UNKNOWN_KEY', severity: 'error', message: 'input has parallel_tool_calls; it allows messages, tools' },
      { code: 'TOGETHER_PREFERENCE_INPUT_NOT_ENDING_WITH_USER', severity: 'error', message: 'input.messages must end with the user message the two outputs answer' },
      { code: 'TOGETHER_PREFERENCE_OUTPUT_INVALID', severity: 'error', message: 'preferred_output must be a list of exactly one {"role": "assistant", "content": string} message (optionally with reasoning or reasoning_content)' }
    ])
    // OpenAI's DPO input may carry parallel_tool_calls.
    expect(codes('openai', preference)).toEqual(['OPENAI_PREFERENCE_INPUT_NOT_ENDING_WITH_USER', 'OPENAI_PREFERENCE_OUTPUT_INVALID'])
    expect(codes('openai', { input: {}, preferred_output: [{ role: 'user', content: 'x' }], non_preferred_output: [{ role: 'assistant', content: 1 }], id: 1 }))
      .toEqual(['OPENAI_PREFERENCE_UNKNOWN_KEY', 'OPENAI_PREFERENCE_MISSING_INPUT', 'OPENAI_PREFERENCE_OUTPUT_INVALID'])
    expect(codes('fireworks', { ...PREFERENCE_LINE, input: { messages: [{ role: 'user', content: ['I'] }], tools: [{ name: 'f' }] } }))
      .toEqual(['FIREWORKS_PREFERENCE_INPUT_MESSAGE_INVALID', 'FIREWORKS_INVALID_TOOLS'])
  })

  it('let Together\'s outputs carry reasoning, as a string', () => {
    const line = { ...PREFERENCE_LINE, preferred_output: [{ role: 'assistant', content: 'good', reasoning: 'why' }], non_preferred_output: [{ role: 'assistant', content: 'bad', reasoning_content: 2 }] }
    expect(checkProviderLine('together', line)).toEqual([{ code: 'TOGETHER_INVALID_REASONING', severity: 'error', message: 'non_preferred_output[0].reasoning_content must be a string' }])
    expect(codes('fireworks', line)).toEqual(['FIREWORKS_PREFERENCE_OUTPUT_INVALID'])
  })
})

describe('the Together rules', () => {
  it('pass a conversation that starts with system, alternates, calls tools and carries reasoning and weights', () => {
    expect(checkProviderLine('together', OPENAI_LINE)).toEqual([])
    const line = {
      messages: [
        { role: 'user', content: 'Q1' },
        { role: 'assistant', content: 'A1', reasoning: 'r', weight: 0 },
        { role: 'user', content: 'Q2' },
        { role: 'assistant', content: 'A2', reasoning_content: 'r', weight: 1 }
      ]
    }
    expect(checkProviderLine('together', line)).toEqual([])
  })

  it('refuse a conversation that starts with the assistant, or has two user turns in a row, or a tool answer without a call', () => {
    expect(checkProviderLine('together', { messages: [{ role: 'assistant', content: 'A' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'B' }] })).toEqual([{
      code: 'TOGETHER_ROLE_ORDER',
      severity: 'error',
      message: 'messages[0] is assistant after the start: a conversation starts with system or user, then alternates user and assistant (tool messages only after an assistant\'s tool_calls)'
    }])
    expect(checkProviderLine('together', { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'user', content: 'R' }, { role: 'assistant', content: 'A' }] })[0]?.message)
      .toMatch(/^messages\[2\] is user after user: /)
    expect(codes('together', { messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }, { role: 'tool', content: 'r', tool_call_id: 'c' }] })).toEqual(['TOGETHER_ROLE_ORDER'])
    expect(codes('together', { messages: [{ role: 'user', content: 'Q' }, { role: 'system', content: 'S' }, { role: 'assistant', content: 'A' }] })).toEqual(['TOGETHER_ROLE_ORDER'])
  })

  it('refuse both reasoning fields on one message, reasoning on a user turn, weights other than 0 and 1, and unknown roles', () => {
    expect(checkProviderLine('together', { messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A', reasoning: 'r', reasoning_content: 'r' }] })).toEqual([
      { code: 'TOGETHER_INVALID_REASONING', severity: 'error', message: 'messages[1] has both reasoning, reasoning_content: give one' }
    ])
    expect(codes('together', { messages: [{ role: 'user', content: 'Q', reasoning: 'r', weight: 2 }, { role: 'model', content: 'A' }] }))
      .toEqual(['TOGETHER_INVALID_WEIGHT', 'TOGETHER_INVALID_REASONING', 'TOGETHER_UNKNOWN_ROLE', 'TOGETHER_NO_ASSISTANT_MESSAGE'])
  })

  it('refuse a line with the keys of two record kinds, and check instruction and text records', () => {
    expect(checkProviderLine('together', { text: 'T', messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] })).toEqual([
      { code: 'TOGETHER_MIXED_LINE_KINDS', severity: 'error', message: 'The line has the keys of conversational and generic_text records: Together rejects a file with two formats' }
    ])
    expect(checkProviderLine('together', { prompt: 'P', completion: 'C' })).toEqual([])
    expect(checkProviderLine('together', { text: 'T' })).toEqual([])
    expect(codes('together', { prompt: 'P' })).toEqual(['TOGETHER_INVALID_INSTRUCTION'])
    expect(codes('together', { text: ['T'] })).toEqual(['TOGETHER_INVALID_TEXT'])
  })

  it('refuse a file that mixes record kinds once, at the first line whose kind differs from the first line\'s', () => {
    const check = new RecordKindCheck('together')
    const chat = { messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] }
    expect(check.check(chat, 1)).toBeNull()
    // A line with no kind or two kinds has its own error; it is not compared.
    expect(check.check({ text: 'T', messages: [] }, 2)).toBeNull()
    expect(check.check(chat, 3)).toBeNull()
    expect(check.check(PREFERENCE_LINE, 4)).toEqual({
      code: 'TOGETHER_MIXED_RECORD_KINDS',
      severity: 'error',
      message: 'Line 4 is a preference record but line 1 is a conversational record: the provider rejects a file that mixes record kinds'
    })
    expect(check.check({ text: 'T' }, 5)).toBeNull()
    // Profiles without the rule never find anything.
    const openai = new RecordKindCheck('openai')
    expect([openai.check(chat, 1), openai.check(PREFERENCE_LINE, 2)]).toEqual([null, null])
  })
})

describe('Kiln\'s own lines', () => {
  it('pass the rules of every provider that reads their format but for known defects: an empty turn, non-object or non-finite arguments', () => {
    let checked = 0
    const found = new Set<string>()
    for (const fixture of loadFixtures()) {
      for (const testCase of fixture.cases) {
        if (testCase.result !== 'ok' || testCase.nonstandard_json === true) continue
        const format = resolveFormat(testCase.format)
        const readers = PROVIDER_PROFILES.filter((name) => format !== undefined && formatsOfProfile(name).includes(format))
        const lines = readFileSync(join(fixture.dir, testCase.expected), 'utf8').split('\n').filter((line) => line !== '')
        for (const line of lines) {
          for (const profile of readers) {
            for (const finding of checkProviderLine(profile, JSON.parse(line))) found.add(`${testCase.format} ${finding.code} ${finding.message}`)
          }
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(400)
    expect([...found].sort()).toEqual([
      // f1's JSON-looking plaintext outputs (a string literal, a list, a number) as HF tool-call arguments.
      'huggingface_chat_template_toolcall_jsonl HF_TOOL_ARGUMENTS_NOT_OBJECT conversations[2].tool_calls[0].function.arguments must be an object for chat templates, not a JSON string',
      'huggingface_chat_template_toolcall_jsonl HF_TOOL_ARGUMENTS_NOT_OBJECT conversations[2].tool_calls[0].function.arguments must be an object for chat templates, not a list',
      'huggingface_chat_template_toolcall_jsonl HF_TOOL_ARGUMENTS_NOT_OBJECT conversations[2].tool_calls[0].function.arguments must be an object for chat templates, not a number',
      // Kiln's chain-of-thought lines put the thinking instructions in a second user turn: Together wants user and assistant to alternate.
      'openai_chat_json_schema_jsonl TOGETHER_ROLE_ORDER messages[2] is user after user: a conversation starts with system or user, then alternates user and assistant (tool messages only after an assistant\'s tool_calls)',
      // Run 246239915318's chain_of_thought is "": Kiln writes an empty assistant turn, which the cookbook counts as missing content
      // (Fireworks and Together ask for a string, and "" is one).
      'openai_chat_jsonl OPENAI_MISSING_CONTENT messages[3] has no content (a non-empty string is needed)',
      'openai_chat_jsonl TOGETHER_ROLE_ORDER messages[2] is user after user: a conversation starts with system or user, then alternates user and assistant (tool messages only after an assistant\'s tool_calls)',
      // f2's "Infinity" output, which Kiln writes into the arguments string (the export refuses it: KEX_OUTPUT_NOT_FINITE).
      'openai_chat_toolcall_jsonl FIREWORKS_TOOL_ARGUMENTS_NOT_JSON messages[2].tool_calls[0].function.arguments is not valid JSON',
      'openai_chat_toolcall_jsonl OPENAI_TOOL_ARGUMENTS_NOT_JSON messages[2].tool_calls[0].function.arguments is not valid JSON',
      'openai_chat_toolcall_jsonl TOGETHER_ROLE_ORDER messages[2] is user after user: a conversation starts with system or user, then alternates user and assistant (tool messages only after an assistant\'s tool_calls)',
      'openai_chat_toolcall_jsonl TOGETHER_TOOL_ARGUMENTS_NOT_JSON messages[2].tool_calls[0].function.arguments is not valid JSON'
    ])
  })
})

describe('the Amazon Bedrock Nova rules', () => {
  const user = (text: string): unknown => ({ role: 'user', content: [{ text }] })
  const assistant = (text: string): unknown => ({ role: 'assistant', content: [{ text }] })
  const line = (messages: unknown[], extra: Record<string, unknown> = {}): unknown =>
    ({ schemaVersion: 'bedrock-conversation-2024', system: [{ text: 'S' }], messages, ...extra })

  it('accepts the records the export writes: merged user turns, an empty system text, any schemaVersion string', () => {
    expect(checkProviderLine('bedrock_nova', line([{ role: 'user', content: [{ text: 'I' }, { text: 'TI' }] }, assistant('T'), user('P'), assistant('F')]))).toEqual([])
    expect(checkProviderLine('bedrock_nova', line([user('I'), assistant('F')], { system: [{ text: '' }], schemaVersion: 'v9' }))).toEqual([])
  })

  it('needs user/assistant turns alternating, first user, last assistant, and text in each message', () => {
    expect(checkProviderLine('bedrock_nova', line([user('I'), user('TI'), assistant('F')]))).toEqual([{
      code: 'BEDROCK_ROLE_ORDER',
      severity: 'error',
      message: 'messages[1] should be an assistant message: Bedrock needs user and assistant turns to alternate, starting with user'
    }])
    expect(codes('bedrock_nova', line([user('I')]))).toEqual(['BEDROCK_ROLE_ORDER'])
    expect(codes('bedrock_nova', line([user('I'), assistant('')]))).toEqual(['BEDROCK_EMPTY_TEXT'])
    expect(codes('bedrock_nova', line([{ role: 'system', content: [{ text: 'S' }] }, assistant('F')]))).toEqual(['BEDROCK_INVALID_ROLE', 'BEDROCK_ROLE_ORDER'])
    expect(codes('bedrock_nova', line([user('I'), { role: 'assistant', content: [] }]))).toEqual(['BEDROCK_MISSING_CONTENT'])
    expect(codes('bedrock_nova', line([user('I'), { role: 'assistant', content: [{ text: 'F', image: {} }] }]))).toEqual(['BEDROCK_INVALID_BLOCK'])
    expect(codes('bedrock_nova', { messages: [user('I'), assistant('F')], extra: 1 })).toEqual(['BEDROCK_UNKNOWN_LINE_KEY', 'BEDROCK_NO_SCHEMA_VERSION'])
    expect(codes('bedrock_nova', line([user('I'), assistant('F')], { schemaVersion: 2024, system: 'S' }))).toEqual(['BEDROCK_INVALID_SCHEMA_VERSION', 'BEDROCK_INVALID_SYSTEM'])
    expect(codes('bedrock_nova', line([]))).toEqual(['BEDROCK_MISSING_MESSAGES'])
    expect(codes('bedrock_nova', [])).toEqual(['BEDROCK_LINE_NOT_OBJECT'])
  })

  it('refuses each reserved keyword in a system or user prompt (case as written), and warns as AWS\'s validator would elsewhere', () => {
    for (const keyword of ['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]']) {
      expect(checkProviderLine('bedrock_nova', line([user(`Say ${keyword} now`), assistant('F')]))).toEqual([{
        code: 'BEDROCK_RESERVED_STRING',
        severity: 'error',
        message: `messages[0].content[0].text contains ${JSON.stringify(keyword)}, a keyword Amazon Bedrock reserves: a Nova training job fails on prompts that contain ` +
          'User:, Bot:, Assistant:, System:, <image>, <video>, [EOS] (reword it)'
      }])
      expect(codes('bedrock_nova', line([user('I'), assistant('F')], { system: [{ text: `${keyword} hi` }] }))).toEqual(['BEDROCK_RESERVED_STRING'])
    }
    // Another case, Thought: or <unk>, or any keyword in an answer: AWS's validator refuses them, the guide does not say so.
    for (const text of ['user: hi', 'Thought: hm', 'an <UNK> token']) expect(codes('bedrock_nova', line([user(text), assistant('F')]))).toEqual(['BEDROCK_RESERVED_STRING_ANY_CASE'])
    expect(codes('bedrock_nova', line([user('I'), assistant('Assistant: F')]))).toEqual(['BEDROCK_RESERVED_STRING_ANY_CASE'])
    expect(codes('bedrock_nova', line([user('I'), assistant('The user said hi')]))).toEqual([])
  })
})
