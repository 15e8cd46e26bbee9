import { describe, expect, it } from 'vitest'
import { countChatTokens, loadTokenCounter, tokenChatOfLine, type TokenChat } from '../../src/validate/index.js'

/*
 * Known counts published in OpenAI's cookbook "How to count tokens with tiktoken"
 * (examples/How_to_count_tokens_with_tiktoken.ipynb): single strings per encoding, and the
 * chat example that num_tokens_from_messages() and the API both count as 124 (gpt-4o, gpt-4o-mini:
 * o200k_base) and 129 (gpt-3.5-turbo, gpt-4: cl100k_base) prompt tokens.
 */
const COOKBOOK_MESSAGES = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: 'Let\'s circle back when we have more bandwidth to touch base on opportunities for increased leverage.' },
  { role: 'system', name: 'example_assistant', content: 'Let\'s talk later when we\'re less busy about how to do better.' },
  { role: 'user', content: 'This late pivot means we don\'t have time to boil the ocean for the client deliverable.' }
]

const cookbookChat: TokenChat = {
  messages: COOKBOOK_MESSAGES.map(({ role, content, name }) => ({ role, texts: [content], ...(name === undefined ? {} : { name }) })),
  extra: []
}

/** A counter whose counts are easy to add up by hand: one token per character. */
const perCharacter = (text: string): number => text.length

describe('the tokenizers', () => {
  it('count the cookbook\'s strings as published for o200k_base', async () => {
    const count = await loadTokenCounter('o200k_base')
    expect(count('tiktoken is great!')).toBe(6)
    expect(count('antidisestablishmentarianism')).toBe(6)
    expect(count('2 + 2 = 4')).toBe(7)
    expect(count('お誕生日おめでとう')).toBe(8)
  })

  it('count the cookbook\'s strings as published for cl100k_base', async () => {
    const count = await loadTokenCounter('cl100k_base')
    expect(count('antidisestablishmentarianism')).toBe(6)
    expect(count('2 + 2 = 4')).toBe(7)
    expect(count('お誕生日おめでとう')).toBe(9)
  })

  it('count special-token text in training data as ordinary text instead of failing', async () => {
    const count = await loadTokenCounter('o200k_base')
    expect(count('<|endoftext|>')).toBe(7)
  })
})

describe('countChatTokens', () => {
  it('counts the cookbook\'s chat example as the API does: 124 with o200k_base, 129 with cl100k_base', async () => {
    expect(countChatTokens(cookbookChat, await loadTokenCounter('o200k_base'))).toBe(124)
    expect(countChatTokens(cookbookChat, await loadTokenCounter('cl100k_base'))).toBe(129)
  })

  it('adds 3 per message, the role, every text, a name plus 1, extra text, and 3 for the reply priming', () => {
    const chat: TokenChat = {
      messages: [
        { role: 'system', texts: ['Be brief.'] },
        { role: 'user', texts: ['Hi'], name: 'bob' },
        { role: 'assistant', texts: ['f', '{}'] }
      ],
      extra: ['[tools]']
    }
    // (3 + 6 + 9) + (3 + 4 + 2 + 3 + 1) + (3 + 9 + 1 + 2) + 7 + 3 = 18 + 13 + 15 + 7 + 3
    expect(countChatTokens(chat, perCharacter)).toBe(56)
  })
})

describe('tokenChatOfLine', () => {
  it('reads an OpenAI line: content, tool call name and arguments, tool_call_id, and the tools', () => {
    const line = {
      messages: [
        { role: 'system', content: 'S' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'task_response', arguments: '{"a":1}' } }] },
        { role: 'tool', content: 'ok', tool_call_id: 'call_1' }
      ],
      tools: [{ type: 'function', function: { name: 'f' } }]
    }
    expect(tokenChatOfLine('openai_chat_toolcall_jsonl', line)).toEqual({
      messages: [
        { role: 'system', texts: ['S'] },
        { role: 'assistant', texts: ['task_response', '{"a":1}'] },
        { role: 'tool', texts: ['ok', 'call_1'] }
      ],
      extra: ['[{"type":"function","function":{"name":"f"}}]']
    })
  })

  it('counts an OpenAI message\'s reasoning_content (the reasoning-field strategy) after its content', () => {
    const line = { messages: [{ role: 'user', content: 'I' }, { role: 'assistant', content: 'F', reasoning_content: 'T' }] }
    expect(tokenChatOfLine('openai_chat_jsonl', line).messages).toEqual([{ role: 'user', texts: ['I'] }, { role: 'assistant', texts: ['F', 'T'] }])
  })

  it('reads a Bedrock line: the system blocks as a system message, every text block of each message', () => {
    const line = {
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'S' }],
      messages: [{ role: 'user', content: [{ text: 'I' }, { text: 'TI' }] }, { role: 'assistant', content: [{ text: 'F' }] }]
    }
    expect(tokenChatOfLine('bedrock_conversation_jsonl', line)).toEqual({
      messages: [{ role: 'system', texts: ['S'] }, { role: 'user', texts: ['I', 'TI'] }, { role: 'assistant', texts: ['F'] }],
      extra: []
    })
  })

  it('reads a Hugging Face line from "conversations", with object arguments as their JSON text', () => {
    const line = { conversations: [{ role: 'user', content: 'I' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'task_response', id: 'abc', arguments: { a: 1 } } }] }] }
    expect(tokenChatOfLine('huggingface_chat_template_toolcall_jsonl', line).messages).toEqual([
      { role: 'user', texts: ['I'] },
      { role: 'assistant', texts: ['task_response', '{"a":1}'] }
    ])
  })

  it('reads a Vertex line: the system instruction as a system message, role-less contents as user', () => {
    const line = {
      systemInstruction: { role: 'system', parts: [{ text: 'S' }] },
      contents: [
        { role: 'user', parts: [{ text: 'I' }] },
        { role: 'model', parts: [{ functionCall: { name: 'f', args: { x: 1 } } }] },
        { parts: [{ functionResponse: { name: 'f', response: { content: 'r' } } }] },
        { role: 'model', parts: [{ text: 'F' }] }
      ]
    }
    expect(tokenChatOfLine('vertex_gemini_1_5', line).messages).toEqual([
      { role: 'system', texts: ['S'] },
      { role: 'user', texts: ['I'] },
      { role: 'model', texts: ['{"name":"f","args":{"x":1}}'] },
      { role: 'user', texts: ['{"name":"f","response":{"content":"r"}}'] },
      { role: 'model', texts: ['F'] }
    ])
  })
})
