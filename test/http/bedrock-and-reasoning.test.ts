import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type ValidationReport } from '../../src/validate/index.js'
import { inlineBody, kilnRun, kilnSplit, type RunOptions } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Issue 15's Amazon Bedrock format, its bedrock_nova profile and the reasoning-field strategy, over a
 * real port, inline and from a mounted Kiln project, with every expected line written out.
 */

const P = 'Considering the above, return a final result.'
const SPLIT_ID = '100000000001'
const MATH: RunOptions = { input: 'What is 2+2?', output: '{"answer":4}', intermediate: { reasoning: '2 plus 2 is 4.' } }
const CAFE: RunOptions = { input: 'Un café ?', output: 'Oui, merci ☕', intermediate: { chain_of_thought: 'Réponse polie.' } }
const TRACE = [
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
  { role: 'tool', content: '18C, sunny', tool_call_id: 'call_a' },
  { role: 'assistant', content: '{"temp": 18}' }
]
const WEATHER: RunOptions = { input: 'Weather in Paris?', output: '{"temp": 18}', intermediate: { reasoning: 'Ask the tool.' }, trace: TRACE }

type Answer = Awaited<ReturnType<typeof postJson>>
type Poster = (runs: Record<string, RunOptions>, params: Record<string, unknown>, action?: 'export' | 'validate') => Promise<Answer>

/** Post the runs in the request body. */
async function inlinePoster (): Promise<Poster> {
  const { client } = await startServer()
  return async (runs, params, action = 'export') => {
    const body = inlineBody(Object.entries(runs).map(([id, options]) => kilnRun(id, options)), {
      dataset_split: kilnSplit(SPLIT_ID, { train: Object.keys(runs) }),
      system_message: 'S',
      ...params
    })
    return postJson(client, `/datasets/${SPLIT_ID}/${action}`, body)
  }
}

/** Write the same runs into a real Kiln project folder and post by id. */
async function mountedPoster (): Promise<Poster> {
  const project = await makeKilnProject()
  const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
  let n = 0
  return async (runs, params, action = 'export') => {
    for (const [id, options] of Object.entries(runs)) await project.writeRun(id, options)
    const splitId = String(900000000000 + ++n)
    await project.writeSplit(splitId, { train: Object.keys(runs) }, `Split ${n}`)
    return postJson(client, `/datasets/${splitId}/${action}`, { split_name: 'train', system_message: 'S', ...params })
  }
}

function problems (report: ValidationReport): string[] {
  return (report.splits[0]?.problems ?? []).map((p) => `${p.code} ${p.run_id ?? '-'}`)
}

for (const [path, makePoster] of [['inline', inlinePoster], ['mounted', mountedPoster]] as const) {
  describe(`bedrock_conversation_jsonl (${path})`, () => {
    it('writes Bedrock conversation records, merging consecutive user turns into one message', async () => {
      const post = await makePoster()
      const plain = await post({ 1: CAFE }, { format: 'bedrock_conversation_jsonl' })
      expect(plain.status, plain.text).toBe(200)
      expect(plain.headers['content-disposition']).toMatch(/ -- format-bedrock_conversation_jsonl -- no-cot\.jsonl"$/)
      expect(plain.text).toBe('{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": [' +
        '{"role": "user", "content": [{"text": "Un café ?"}]}, {"role": "assistant", "content": [{"text": "Oui, merci ☕"}]}]}\n')
      const cot = await post({ 1: CAFE, 2: MATH }, { format: 'bedrock_conversation_jsonl', data_strategy: 'final_and_intermediate', thinking_instructions: 'Think.' })
      expect(cot.status, cot.text).toBe(200)
      expect(cot.headers['content-disposition']).toMatch(/ -- cot\.jsonl"$/)
      expect(cot.text).toBe(
        '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": [' +
        '{"role": "user", "content": [{"text": "Un café ?"}, {"text": "Think."}]}, {"role": "assistant", "content": [{"text": "Réponse polie."}]}, ' +
        `{"role": "user", "content": [{"text": "${P}"}]}, {"role": "assistant", "content": [{"text": "Oui, merci ☕"}]}]}\n` +
        '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": [' +
        '{"role": "user", "content": [{"text": "What is 2+2?"}, {"text": "Think."}]}, {"role": "assistant", "content": [{"text": "2 plus 2 is 4."}]}, ' +
        `{"role": "user", "content": [{"text": "${P}"}]}, {"role": "assistant", "content": [{"text": "{\\"answer\\":4}"}]}]}\n`)
    })

    it('refuses trace tool calls per run (include_tool_calls: false leaves them out) and the reasoning-field strategy', async () => {
      const post = await makePoster()
      const tools = await post({ 1: CAFE, 2: WEATHER }, { format: 'bedrock_conversation_jsonl' })
      expect(tools.status).toBe(422)
      expect(tools.json()).toMatchObject({
        code: 'KEX_TOOL_CALLS_NOT_SUPPORTED',
        message: 'The run\'s trace has tool calls, which Amazon Nova fine-tuning does not support: send "include_tool_calls": false to export the run without them (or use a format that carries tool calls)',
        run_ids: ['2']
      })
      const without = await post({ 2: WEATHER }, { format: 'bedrock_conversation_jsonl', include_tool_calls: false })
      expect(without.text).toBe('{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": [' +
        '{"role": "user", "content": [{"text": "Weather in Paris?"}]}, {"role": "assistant", "content": [{"text": "{\\"temp\\": 18}"}]}]}\n')
      const field = await post({ 1: MATH }, { format: 'bedrock_conversation_jsonl', data_strategy: 'final_and_intermediate_reasoning_field' })
      expect(field.status).toBe(400)
      expect(field.json()).toMatchObject({ code: 'KEX_STRATEGY_NOT_SUPPORTED' })
      expect((field.json() as { message: string }).message).toContain('or a format that takes final_and_intermediate_reasoning_field: openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl')
    })

    it('validates against bedrock_nova by default: a reserved keyword in a prompt is an error, good lines are clean', async () => {
      const post = await makePoster()
      const good: Record<string, RunOptions> = {}
      for (let i = 1; i <= 8; i++) good[String(i)] = { input: `Question ${i}`, output: `Answer ${i}` }
      const clean = await post(good, { format: 'bedrock_conversation_jsonl' }, 'validate')
      expect(clean.status, clean.text).toBe(200)
      const cleanReport = clean.json() as ValidationReport
      expect(cleanReport.provider_profile).toMatchObject({ name: 'bedrock_nova', model: 'amazon.nova-lite-v1:0', min_training_examples: 8 })
      // Only the dataset-size advice (100 recommended): no line finding.
      expect(problems(cleanReport)).toEqual(['FEW_TRAINING_EXAMPLES -'])
      expect(cleanReport.splits[0]?.status).toBe('warnings')

      const bad = await post({ ...good, 9: { input: 'User: what now?', output: 'Bot: nothing.' } }, { format: 'bedrock_conversation_jsonl', provider_profile: 'bedrock_nova' }, 'validate')
      expect(bad.status, bad.text).toBe(200)
      const report = bad.json() as ValidationReport
      expect(report.splits[0]?.status).toBe('errors')
      const found = report.splits[0]?.problems.filter((p) => p.code.startsWith('BEDROCK_'))
      expect(found).toMatchObject([
        {
          code: 'BEDROCK_RESERVED_STRING',
          severity: 'error',
          run_id: '9',
          message: expect.stringContaining('messages[0].content[0].text contains "User:", a keyword Amazon Bedrock reserves') as unknown
        },
        // In an answer it is AWS's validator that refuses it, not the guide: a warning.
        { code: 'BEDROCK_RESERVED_STRING_ANY_CASE', severity: 'warning', run_id: '9', message: expect.stringContaining('messages[1].content[0].text contains "Bot:"') as unknown }
      ])
    })
  })

  describe(`final_and_intermediate_reasoning_field (${path})`, () => {
    it('writes the thinking in reasoning_content in the three OpenAI formats', async () => {
      const post = await makePoster()
      const params = { data_strategy: 'final_and_intermediate_reasoning_field' }
      const head = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "What is 2+2?"}, '
      const chat = await post({ 1: MATH }, { ...params, format: 'openai_chat_jsonl' })
      expect(chat.status, chat.text).toBe(200)
      expect(chat.headers['content-disposition']).toMatch(/ -- cot\.jsonl"$/)
      expect(chat.text).toBe(`${head}{"role": "assistant", "content": "{\\"answer\\":4}", "reasoning_content": "2 plus 2 is 4."}]}\n`)
      const schema = await post({ 1: MATH }, { ...params, format: 'openai_chat_json_schema_jsonl' })
      expect(schema.text).toBe(`${head}{"role": "assistant", "content": "{\\"answer\\": 4}", "reasoning_content": "2 plus 2 is 4."}]}\n`)
      const toolcall = await post({ 1: MATH }, { ...params, format: 'openai_chat_toolcall_jsonl' })
      expect(toolcall.text).toBe(`${head}{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", ` +
        '"function": {"name": "task_response", "arguments": "{\\"answer\\": 4}"}}], "reasoning_content": "2 plus 2 is 4."}]}\n')
      // A trace's tool calls go after the user message, as for the other strategies.
      const traced = await post({ 2: WEATHER }, { ...params, format: 'openai_chat_jsonl', tools: [] })
      expect(traced.text).toBe('{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris?"}, ' +
        '{"role": "assistant", "content": "", "tool_calls": [{"id": "call_a", "function": {"arguments": "{\\"city\\":\\"Paris\\"}", "name": "get_weather"}, "type": "function"}]}, ' +
        '{"role": "tool", "content": "18C, sunny", "tool_call_id": "call_a"}, {"role": "assistant", "content": "{\\"temp\\": 18}", "reasoning_content": "Ask the tool."}]}\n')
    })

    it('refuses per run as R1 does, and for the formats without the field before any run is read', async () => {
      const post = await makePoster()
      const params = { data_strategy: 'final_and_intermediate_reasoning_field', format: 'openai_chat_jsonl' }
      const withTi = await post({ 1: MATH }, { ...params, thinking_instructions: 'Think.' })
      expect(withTi.status).toBe(422)
      expect(withTi.json()).toMatchObject({ code: 'KEX_THINKING_INSTRUCTIONS_NOT_SUPPORTED', run_ids: ['1'] })
      const missing = await post({ 1: MATH, 2: { output: 'x' }, 3: { output: 'y', intermediate: { reasoning: '  ' } } }, params)
      expect(missing.status).toBe(422)
      expect(missing.json()).toMatchObject({
        code: 'KEX_THINKING_DATA_REQUIRED',
        run_ids: ['2', '3'],
        problems: [{ run_id: '2', code: 'KEX_THINKING_DATA_REQUIRED' }, { run_id: '3', code: 'KEX_THINKING_DATA_BLANK' }]
      })
      for (const format of ['huggingface_chat_template_jsonl', 'vertex_gemini']) {
        const refused = await post({ 1: MATH }, { ...params, format })
        expect(refused.status, format).toBe(400)
        expect(refused.json()).toMatchObject({ code: 'KEX_STRATEGY_NOT_SUPPORTED' })
        expect((refused.json() as { message: string }).message).toContain('(the thinking goes in reasoning_content, a field only the OpenAI formats have)')
      }
    })
  })
}

describe('GET /formats', () => {
  it('lists the Bedrock format and gives the reasoning-field strategy to the OpenAI formats only', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/formats' })
    const formats = (await response.body.json() as { formats: Array<{ name: string, data_strategies: string[], parses_output: boolean }> }).formats
    expect(formats.find((f) => f.name === 'bedrock_conversation_jsonl')).toMatchObject({
      parses_output: false,
      data_strategies: ['final_only', 'final_and_intermediate', 'final_and_intermediate_r1_compatible', 'two_message_cot']
    })
    expect(formats.filter((f) => f.data_strategies.includes('final_and_intermediate_reasoning_field')).map((f) => f.name))
      .toEqual(['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl'])
  })
})
