import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/kiln-project.js'
import { inlineBody, kilnRun, kilnSplit, type RunOptions } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * The strategies and trace export Kiln added after the seed (spec section 10), with every expected
 * line written out, through both the inline and the mounted path.
 */

const P = 'Considering the above, return a final result.'
const SPLIT_ID = '100000000001'

const MATH: RunOptions = { input: 'What is 2+2?', output: '{"answer":4}', intermediate: { reasoning: '2 plus 2 is 4.' } }
const TRACE = [
  { role: 'system', content: 'S' },
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
  { role: 'tool', content: '18C, sunny', tool_call_id: 'call_a' },
  { role: 'assistant', content: 'It is 18C and sunny.' }
]
const WEATHER: RunOptions = { input: 'Weather in Paris?', output: 'It is 18C and sunny.', trace: TRACE }
const TOOLS = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }
}]

type Exporter = (runs: Record<string, RunOptions>, params: Record<string, unknown>) => Promise<{ status: number, text: string, json: () => unknown, headers: Record<string, unknown> }>

/** Export through the request body. */
async function inlineExporter (): Promise<Exporter> {
  const { client } = await startServer()
  return async (runs, params) => {
    const body = inlineBody(Object.entries(runs).map(([id, options]) => kilnRun(id, options)), {
      dataset_split: kilnSplit(SPLIT_ID, { train: Object.keys(runs) }),
      system_message: 'S',
      ...params
    })
    return postJson(client, `/datasets/${SPLIT_ID}/export`, body)
  }
}

/** Export the same runs written into a real Kiln project folder. */
async function mountedExporter (): Promise<Exporter> {
  const project = await makeKilnProject()
  const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
  let n = 0
  return async (runs, params) => {
    for (const [id, options] of Object.entries(runs)) await project.writeRun(id, options)
    const splitId = String(900000000000 + ++n)
    await project.writeSplit(splitId, { train: Object.keys(runs) }, `Split ${n}`)
    return postJson(client, `/datasets/${splitId}/export`, { split_name: 'train', system_message: 'S', ...params })
  }
}

for (const [path, makeExporter] of [['inline', inlineExporter], ['mounted', mountedExporter]] as const) {
  describe(`later Kiln strategies (${path})`, () => {
    it('writes R1-style <think> answers, re-serialising JSON outputs', async () => {
      const exportRuns = await makeExporter()
      const chat = await exportRuns({ 1: MATH }, { format: 'openai_chat_jsonl', data_strategy: 'final_and_intermediate_r1_compatible' })
      expect(chat.status, chat.text).toBe(200)
      expect(chat.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, ' +
        '{"role": "assistant", "content": "<think>\\n2 plus 2 is 4.\\n</think>\\n\\n{\\"answer\\":4}"}]}\n')
      const schema = await exportRuns({ 1: MATH }, { format: 'openai_chat_json_schema_jsonl', data_strategy: 'final_and_intermediate_r1_compatible', thinking_instructions: '' })
      expect(schema.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, ' +
        '{"role": "assistant", "content": "<think>\\n2 plus 2 is 4.\\n</think>\\n\\n{\\"answer\\": 4}"}]}\n')
      const hf = await exportRuns({ 1: MATH }, { format: 'huggingface_chat_template_jsonl', data_strategy: 'final_and_intermediate_r1_compatible' })
      expect(hf.headers['content-disposition']).toMatch(/ -- cot\.jsonl"$/)
      expect(hf.text).toBe('{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, ' +
        '{"role": "assistant", "content": "<think>\\n2 plus 2 is 4.\\n</think>\\n\\n{\\"answer\\":4}"}]}\n')
    })

    it('refuses R1 for Vertex and tool-call formats, with thinking instructions, and without thinking data', async () => {
      const exportRuns = await makeExporter()
      const r1 = { data_strategy: 'final_and_intermediate_r1_compatible' }
      const vertex = await exportRuns({ 1: MATH }, { ...r1, format: 'vertex_gemini_1_5' })
      expect(vertex.status).toBe(400)
      expect(vertex.json()).toMatchObject({ code: 'KEX_STRATEGY_NOT_SUPPORTED', message: 'R1 style thinking is not supported for Vertex Gemini. Please use a different training strategy.' })
      for (const format of ['openai_chat_toolcall_jsonl', 'huggingface_chat_template_toolcall_jsonl']) {
        const toolcall = await exportRuns({ 1: MATH }, { ...r1, format })
        expect(toolcall.status).toBe(400)
        expect(toolcall.json()).toMatchObject({ code: 'KEX_STRATEGY_NOT_SUPPORTED', message: 'R1 style thinking is not supported for tool call downloads. Please use a different training strategy.' })
      }
      const withTi = await exportRuns({ 1: MATH }, { ...r1, format: 'openai_chat_jsonl', thinking_instructions: 'Think.' })
      expect(withTi.status).toBe(400)
      expect(withTi.json()).toMatchObject({
        code: 'KEX_THINKING_INSTRUCTIONS_NOT_SUPPORTED',
        message: 'Thinking instructions are not supported when fine-tuning thinking models (R1, QwQ, etc). Please remove the thinking instructions.'
      })
      const missing = await exportRuns({ 1: MATH, 2: { output: 'x' }, 3: { output: 'y', intermediate: { chain_of_thought: ' \n\t' } } }, { ...r1, format: 'openai_chat_jsonl' })
      expect(missing.status).toBe(422)
      expect(missing.json()).toMatchObject({
        code: 'KEX_THINKING_DATA_REQUIRED',
        message: 'Thinking data is required when fine-tuning thinking models (R1, QwQ, etc). Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.',
        run_ids: ['2', '3']
      })
    })

    it('writes the two-message chain of thought in every format', async () => {
      const exportRuns = await makeExporter()
      const params = { data_strategy: 'two_message_cot', thinking_instructions: 'Think first.' }
      const user = 'The input is:\\n<user_input>\\nWhat is 2+2?\\n</user_input>\\n\\nThink first.'
      const chat = await exportRuns({ 1: MATH }, { ...params, format: 'huggingface_chat_template_jsonl' })
      expect(chat.status, chat.text).toBe(200)
      expect(chat.text).toBe(`{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "${user}"}, ` +
        `{"role": "assistant", "content": "2 plus 2 is 4."}, {"role": "user", "content": "${P}"}, {"role": "assistant", "content": "{\\"answer\\":4}"}]}\n`)
      const toolcall = await exportRuns({ 1: MATH }, { ...params, format: 'openai_chat_toolcall_jsonl' })
      expect(toolcall.text).toBe(`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "${user}"}, ` +
        `{"role": "assistant", "content": "2 plus 2 is 4."}, {"role": "user", "content": "${P}"}, ` +
        '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", "arguments": "{\\"answer\\": 4}"}}]}]}\n')
      const vertex = await exportRuns({ 1: MATH }, { ...params, format: 'vertex_gemini_1_5' })
      expect(vertex.text).toBe(`{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "${user}"}]}, ` +
        `{"role": "model", "parts": [{"text": "2 plus 2 is 4."}]}, {"role": "user", "parts": [{"text": "${P}"}]}, {"role": "model", "parts": [{"text": "{\\"answer\\":4}"}]}]}\n`)
    })

    it('refuses the two-message chain of thought without instructions or thinking data', async () => {
      const exportRuns = await makeExporter()
      const noTi = await exportRuns({ 1: MATH }, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot' })
      expect(noTi.status).toBe(400)
      expect(noTi.json()).toMatchObject({ code: 'KEX_THINKING_INSTRUCTIONS_MISSING', message: 'Thinking instructions are required when data_strategy is two_message_cot' })
      const noThinking = await exportRuns({ 1: MATH, 2: { output: 'x', intermediate: { reasoning: '' } } }, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot', thinking_instructions: 'T' })
      expect(noThinking.status).toBe(422)
      expect(noThinking.json()).toMatchObject({
        code: 'KEX_THINKING_DATA_REQUIRED',
        message: 'Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.',
        run_ids: ['2']
      })
    })

    it('exports trace tool calls and tool responses only when asked, with the request\'s tools', async () => {
      const exportRuns = await makeExporter()
      const plain = await exportRuns({ 1: WEATHER }, { format: 'openai_chat_jsonl' })
      expect(plain.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "It is 18C and sunny."}]}\n')
      const toolMessages = '{"role": "assistant", "content": "", "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]}, ' +
        '{"role": "tool", "content": "18C, sunny", "tool_call_id": "call_a"}'
      const openai = await exportRuns({ 1: WEATHER }, { format: 'openai_chat_jsonl', include_tool_calls: true, tools: TOOLS })
      expect(openai.status, openai.text).toBe(200)
      expect(openai.text).toBe(`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, ${toolMessages}, ` +
        '{"role": "assistant", "content": "It is 18C and sunny."}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city", ' +
        '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]}\n')
      const hf = await exportRuns({ 1: WEATHER }, { format: 'huggingface_chat_template_jsonl', include_tool_calls: true, tools: TOOLS })
      expect(hf.text).toBe(`{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, ${toolMessages}, ` +
        '{"role": "assistant", "content": "It is 18C and sunny."}]}\n')
      const vertex = await exportRuns({ 1: WEATHER }, { format: 'vertex_gemini_1_5', include_tool_calls: true, tools: TOOLS })
      expect(vertex.text).toBe('{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}, ' +
        '{"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}, ' +
        '{"parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "18C, sunny"}}}]}, {"role": "model", "parts": [{"text": "It is 18C and sunny."}]}], ' +
        '"tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather by city", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]}\n')
      // Seed COT layout: the tool messages go after the thinking instructions, before the thinking.
      const cot = await exportRuns({ 1: { ...WEATHER, intermediate: { reasoning: 'Call the tool.' } } }, {
        format: 'openai_chat_jsonl', data_strategy: 'final_and_intermediate', thinking_instructions: 'TI', include_tool_calls: true
      })
      expect(cot.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, {"role": "user", "content": "TI"}, ' +
        `${toolMessages}, {"role": "assistant", "content": "Call the tool."}, {"role": "user", "content": "${P}"}, {"role": "assistant", "content": "It is 18C and sunny."}]}\n`)
    })

    it('refuses a trace Kiln could not export, naming the run', async () => {
      const exportRuns = await makeExporter()
      const noId = await exportRuns({ 7: { ...WEATHER, trace: [{ role: 'tool', content: 'x' }] } }, { format: 'openai_chat_jsonl', include_tool_calls: true })
      expect(noId.status).toBe(422)
      expect(noId.json()).toMatchObject({ code: 'KEX_TRACE_INVALID', message: 'Tool call ID is required for tool response messages', run_ids: ['7'] })
      const orphan = await exportRuns({ 8: { ...WEATHER, trace: [{ role: 'tool', content: 'x', tool_call_id: 'call_z' }] } }, { format: 'vertex_gemini_1_5', include_tool_calls: true })
      expect(orphan.status).toBe(422)
      expect(orphan.json()).toMatchObject({
        code: 'KEX_TRACE_INVALID',
        message: 'Could not find function name for tool_call_id: call_z. Ensure tool messages have matching assistant tool calls in the trace.'
      })
      const badArgs = [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }]
      const list = await exportRuns({ 9: { ...WEATHER, trace: badArgs } }, { format: 'vertex_gemini_1_5', include_tool_calls: true })
      expect(list.json()).toMatchObject({ code: 'KEX_TRACE_INVALID', message: "tool call arguments must be a dictionary object, got <class 'list'>" })
    })
  })
}

describe('FORMAT_ALIASES', () => {
  it('is off by default: vertex_gemini is refused as at the seed commit', async () => {
    const { client } = await startServer()
    const response = await postJson(client, `/datasets/${SPLIT_ID}/export`, inlineBody([kilnRun('1')], { format: 'vertex_gemini' }))
    expect(response.status).toBe(400)
  })

  it('accepts vertex_gemini as vertex_gemini_1_5 when on, with the same lines and its own file name', async () => {
    const { client } = await startServer({ formatAliases: true })
    const body = inlineBody([kilnRun('1'), kilnRun('2', { repaired: 'fixed' })])
    const alias = await postJson(client, `/datasets/${SPLIT_ID}/export`, { ...body, format: 'vertex_gemini' })
    const canonical = await postJson(client, `/datasets/${SPLIT_ID}/export`, { ...body, format: 'vertex_gemini_1_5' })
    expect(alias.status).toBe(200)
    expect(alias.text).toBe(canonical.text)
    expect(alias.headers['content-disposition']).toBe('attachment; filename="Test split -- split-train -- format-vertex_gemini -- no-cot.jsonl"')
    const formats = await client.request({ method: 'GET', path: '/formats' })
    const list = (await formats.body.json() as { formats: Array<{ name: string, alias_of?: string }> }).formats
    expect(list.find((f) => f.name === 'vertex_gemini')).toMatchObject({ alias_of: 'vertex_gemini_1_5' })
  })
})
