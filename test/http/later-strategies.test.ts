import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
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
      // Vertex: not refused at HEAD; the <think> text goes into the model part.
      const vertex = await exportRuns({ 1: MATH }, { format: 'vertex_gemini', data_strategy: 'final_and_intermediate_r1_compatible', thinking_instructions: '' })
      expect(vertex.status, vertex.text).toBe(200)
      expect(vertex.text).toBe('{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "What is 2+2?"}]}, ' +
        '{"role": "model", "parts": [{"text": "<think>\\n2 plus 2 is 4.\\n</think>\\n\\n{\\"answer\\":4}"}]}]}\n')
      const hf = await exportRuns({ 1: MATH }, { format: 'huggingface_chat_template_jsonl', data_strategy: 'final_and_intermediate_r1_compatible' })
      expect(hf.headers['content-disposition']).toMatch(/ -- cot\.jsonl"$/)
      expect(hf.text).toBe('{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, ' +
        '{"role": "assistant", "content": "<think>\\n2 plus 2 is 4.\\n</think>\\n\\n{\\"answer\\":4}"}]}\n')
    })

    it('refuses R1 per run, in Kiln\'s order: instructions, missing thinking, blank thinking, then the JSON formats\' parse', async () => {
      const exportRuns = await makeExporter()
      const r1 = { data_strategy: 'final_and_intermediate_r1_compatible' }
      // The three formats that parse the answer parse "<think>...", so they always refuse, with Kiln's text.
      for (const format of ['openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl', 'huggingface_chat_template_toolcall_jsonl']) {
        const parsing = await exportRuns({ 1: MATH }, { ...r1, format })
        expect(parsing.status).toBe(422)
        expect(parsing.json()).toMatchObject({
          code: 'KEX_OUTPUT_NOT_JSON',
          message: 'Last message is not JSON (structured), and this format expects structured data: Expecting value: line 1 column 1 (char 0)',
          run_ids: ['1']
        })
        // Thinking is checked first: a run without it is refused for that.
        const noThinking = await exportRuns({ 2: { output: '{}' } }, { ...r1, format })
        expect(noThinking.json()).toMatchObject({ code: 'KEX_THINKING_DATA_REQUIRED', run_ids: ['2'] })
      }
      const withTi = await exportRuns({ 1: MATH }, { ...r1, format: 'openai_chat_jsonl', thinking_instructions: 'Think.' })
      expect(withTi.status).toBe(422)
      expect(withTi.json()).toMatchObject({
        code: 'KEX_THINKING_INSTRUCTIONS_NOT_SUPPORTED',
        message: 'Thinking instructions are not supported when fine-tuning thinking models (R1, QwQ, etc). Please remove the thinking instructions.',
        run_ids: ['1']
      })
      // Missing and blank thinking give Kiln's two different texts; the first failing run decides the message.
      const missing = await exportRuns({ 1: MATH, 2: { output: 'x' }, 3: { output: 'y', intermediate: { chain_of_thought: ' \n\t' } } }, { ...r1, format: 'openai_chat_jsonl' })
      expect(missing.status).toBe(422)
      expect(missing.json()).toMatchObject({
        code: 'KEX_THINKING_DATA_REQUIRED',
        message: 'Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.',
        run_ids: ['2', '3'],
        problems: [
          { run_id: '2', code: 'KEX_THINKING_DATA_REQUIRED' },
          {
            run_id: '3',
            code: 'KEX_THINKING_DATA_BLANK',
            message: 'Thinking data is required when fine-tuning thinking models (R1, QwQ, etc). Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.'
          }
        ]
      })
      // Every check is per run: an empty split is an empty file, even with instructions.
      const empty = await exportRuns({}, { ...r1, format: 'openai_chat_toolcall_jsonl', thinking_instructions: 'Think.' })
      expect(empty.status).toBe(200)
      expect(empty.text).toBe('')
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

    it('refuses the two-message chain of thought without instructions or thinking data, per run', async () => {
      const exportRuns = await makeExporter()
      const noTi = await exportRuns({ 1: MATH }, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot' })
      expect(noTi.status).toBe(422)
      expect(noTi.json()).toMatchObject({
        code: 'KEX_THINKING_INSTRUCTIONS_REQUIRED',
        message: 'thinking_instructions are required when strategy is final_and_intermediate',
        run_ids: ['1']
      })
      // An empty split is a 200 with an empty body, as Kiln writes an empty file.
      const empty = await exportRuns({}, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot' })
      expect(empty.status).toBe(200)
      expect(empty.text).toBe('')
      // A missing run is reported first, as Kiln meets it first.
      const body = inlineBody([kilnRun('1', MATH)], { dataset_split: kilnSplit(SPLIT_ID, { train: ['404', '1'] }), format: 'openai_chat_jsonl', data_strategy: 'two_message_cot', system_message: 'S' })
      const { client } = await startServer()
      const missingFirst = await postJson(client, `/datasets/${SPLIT_ID}/export`, body)
      expect(missingFirst.json()).toMatchObject({ code: 'KEX_TASK_RUN_NOT_FOUND', run_ids: ['404', '1'] })
      const noThinking = await exportRuns({ 1: MATH, 2: { output: 'x', intermediate: { reasoning: '' } } }, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot', thinking_instructions: 'T' })
      expect(noThinking.status).toBe(422)
      expect(noThinking.json()).toMatchObject({
        code: 'KEX_THINKING_DATA_REQUIRED',
        message: 'Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset contains reasoning or chain of thought output for every entry.',
        run_ids: ['2']
      })
      // The JSON formats need a JSON object (Kiln's chat formatter).
      const notObject = await exportRuns({ 3: { output: '[1]', intermediate: { reasoning: 'R' } } }, { format: 'openai_chat_json_schema_jsonl', data_strategy: 'two_message_cot', thinking_instructions: 'T' })
      expect(notObject.json()).toMatchObject({
        code: 'KEX_OUTPUT_NOT_OBJECT',
        message: 'Last message is not a JSON Dictionary (structured data), and this format expects structured_data.',
        run_ids: ['3']
      })
    })

    it('drops the <user_input> wrapper when the input is a conversation history', async () => {
      const exportRuns = await makeExporter()
      const history = { input: '<conversation_history>\nuser: hi\n</conversation_history>', output: 'ok', intermediate: { reasoning: 'R' } }
      const answer = await exportRuns({ 1: history }, { format: 'openai_chat_jsonl', data_strategy: 'two_message_cot', thinking_instructions: 'T' })
      expect(answer.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "<conversation_history>\\nuser: hi\\n</conversation_history>\\n\\nT"}, ' +
        `{"role": "assistant", "content": "R"}, {"role": "user", "content": "${P}"}, {"role": "assistant", "content": "ok"}]}\n`)
    })

    it('exports trace tool calls and tool responses by default (include_tool_calls: false leaves them out), with the request\'s tools', async () => {
      const exportRuns = await makeExporter()
      const plain = await exportRuns({ 1: WEATHER }, { format: 'openai_chat_jsonl', include_tool_calls: false })
      expect(plain.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "It is 18C and sunny."}]}\n')
      // Tool-call items in openai's key order (id, function {arguments, name}, type), as Kiln HEAD writes them.
      const toolMessages = '{"role": "assistant", "content": "", "tool_calls": [{"id": "call_a", "function": {"arguments": "{\\"city\\":\\"Paris\\"}", "name": "get_weather"}, "type": "function"}]}, ' +
        '{"role": "tool", "content": "18C, sunny", "tool_call_id": "call_a"}'
      const openai = await exportRuns({ 1: WEATHER }, { format: 'openai_chat_jsonl', tools: TOOLS })
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

    it('takes each line\'s tools from its run config (Kiln\'s built-in tools), refuses mixed tool sets and unknown tool ids', async () => {
      const exportRuns = await makeExporter()
      const add = { input: 'What is 2 + 3?', output: '{"sum": 5}', tools: ['kiln_tool::add_numbers', 'kiln_tool::divide_numbers'] }
      const both = await exportRuns({ 1: add }, { format: 'openai_chat_jsonl' })
      expect(both.status, both.text).toBe(200)
      const line = JSON.parse(both.text) as { tools: Array<{ function: { name: string } }> }
      expect(line.tools.map((t) => t.function.name)).toEqual(['add', 'divide'])
      expect(both.text).toContain('"tools": [{"type": "function", "function": {"name": "add", "description": "Add two numbers together and return the result", ' +
        '"parameters": {"type": "object", "properties": {"a": {"type": "number", "description": "The first number to add"}, ' +
        '"b": {"type": "number", "description": "The second number to add"}}, "required": ["a", "b"]}}}, ')
      // The HF formats never carry tools.
      const hf = await exportRuns({ 1: add }, { format: 'huggingface_chat_template_jsonl' })
      expect(hf.text).not.toContain('"tools"')
      // The request's tools replace the runs' ([] writes none).
      const none = await exportRuns({ 1: add }, { format: 'openai_chat_jsonl', tools: [] })
      expect(none.text).not.toContain('"tools"')

      const mixed = await exportRuns({ 1: add, 2: { output: 'x' } }, { format: 'openai_chat_jsonl' })
      expect(mixed.status).toBe(422)
      expect(mixed.json()).toMatchObject({ code: 'KEX_MIXED_TOOL_SETS', run_ids: ['2'] })
      const mixedMessage = (mixed.json() as { message: string }).message
      expect(mixedMessage).toContain('Dataset contains mixed tool/skill selections and cannot be exported')
      expect(mixedMessage).toContain('run 1 was made with tools kiln_tool::add_numbers, kiln_tool::divide_numbers, run 2 with no tools')
      // With the request's tools the runs' sets do not matter.
      expect((await exportRuns({ 1: add, 2: { output: 'x' } }, { format: 'openai_chat_jsonl', tools: TOOLS })).status).toBe(200)

      const mcp = await exportRuns({ 1: { output: 'x', tools: ['mcp::remote::srv1::search', 'kiln_tool::add_numbers'] } }, { format: 'vertex_gemini' })
      expect(mcp.status).toBe(422)
      expect(mcp.json()).toMatchObject({ code: 'KEX_TOOL_NOT_RESOLVABLE', run_ids: ['1'] })
      expect((mcp.json() as { message: string }).message).toMatch(/^Failed to get tool definition for tool ID 'mcp::remote::srv1::search': .*"tools"/)
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
  it('can be turned off: then vertex_gemini is refused as at the seed commit', async () => {
    const { client } = await startServer({ formatAliases: false })
    const response = await postJson(client, `/datasets/${SPLIT_ID}/export`, inlineBody([kilnRun('1')], { format: 'vertex_gemini' }))
    expect(response.status).toBe(400)
  })

  it('is on by default: vertex_gemini is vertex_gemini_1_5, with the same lines and its own file name', async () => {
    const { client } = await startServer()
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
