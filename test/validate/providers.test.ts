import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { profileForFormat, checkProviderLine } from '../../src/validate/index.js'
import { loadReferenceData } from '../../src/validate/reference-files.js'
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

describe('Kiln\'s own lines', () => {
  it('pass the rules of their format\'s provider but for known defects: an empty turn, non-object or non-finite arguments', async () => {
    const { profiles } = await loadReferenceData()
    let checked = 0
    const found = new Set<string>()
    for (const fixture of loadFixtures()) {
      for (const testCase of fixture.cases) {
        if (testCase.result !== 'ok' || testCase.nonstandard_json === true) continue
        const profile = profileForFormat(profiles, testCase.format)
        const lines = readFileSync(join(fixture.dir, testCase.expected), 'utf8').split('\n').filter((line) => line !== '')
        for (const line of lines) {
          for (const finding of checkProviderLine(profile, JSON.parse(line))) found.add(`${testCase.format} ${finding.code} ${finding.message}`)
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
      // Run 246239915318's chain_of_thought is "": Kiln writes an empty assistant turn, which the cookbook counts as missing content.
      'openai_chat_jsonl OPENAI_MISSING_CONTENT messages[3] has no content (a non-empty string is needed)',
      // f2's "Infinity" output, which Kiln writes into the arguments string (the export refuses it: KEX_OUTPUT_NOT_FINITE).
      'openai_chat_toolcall_jsonl OPENAI_TOOL_ARGUMENTS_NOT_JSON messages[2].tool_calls[0].function.arguments is not valid JSON'
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
