import { describe, expect, it } from 'vitest'
import { inlineBody, kilnRun, kilnSplit } from '../helpers/kiln-data.js'
import { postJson, startServer } from '../helpers/server.js'

const PATH = '/datasets/100000000001/export'

describe('POST /datasets/:id/export (inline)', () => {
  it('streams Kiln lines with the attachment headers', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([kilnRun('1'), kilnRun('2', { repaired: 'fixed 2' })]))
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('application/jsonl; charset=utf-8')
    expect(response.headers['transfer-encoding']).toBe('chunked')
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="Test split -- split-train -- format-openai_chat_jsonl -- no-cot.jsonl"')
    expect(response.headers['x-export-line-count']).toBe('2')
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.text).toBe(
      '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "input of 1"}, {"role": "assistant", "content": "output of 1"}]}\n' +
      '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "input of 2"}, {"role": "assistant", "content": "fixed 2"}]}\n')
  })

  it('names the file with RFC 6266 filename* when the name is not ASCII, and "cot" for final_and_intermediate', async () => {
    const { client } = await startServer()
    const body = inlineBody([kilnRun('1')], {
      data_strategy: 'final_and_intermediate',
      thinking_instructions: 'Think.',
      dataset_split: kilnSplit('100000000001', { tränen: ['1'] }, 'Recettes été'),
      split_name: 'tränen'
    })
    const response = await postJson(client, PATH, body)
    expect(response.status).toBe(200)
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="Recettes ?t? -- split-tr?nen -- format-openai_chat_jsonl -- cot.jsonl"; ' +
      "filename*=UTF-8''Recettes%20%C3%A9t%C3%A9%20--%20split-tr%C3%A4nen%20--%20format-openai_chat_jsonl%20--%20cot.jsonl")
  })

  it('answers an empty split with 200 and an empty body', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([], { dataset_split: kilnSplit('100000000001', { train: [] }) }))
    expect(response.status).toBe(200)
    expect(response.text).toBe('')
    expect(response.headers['x-export-line-count']).toBe('0')
  })

  it('follows split_contents order, repeats duplicated ids and ignores runs the split does not name', async () => {
    const { client } = await startServer()
    const body = inlineBody([kilnRun('1'), kilnRun('2'), kilnRun('3')], {
      dataset_split: kilnSplit('100000000001', { train: ['3', '1', '3'] })
    })
    const response = await postJson(client, PATH, body)
    const users = response.text.trim().split('\n').map((line) => (JSON.parse(line) as { messages: Array<{ content: string }> }).messages[1]?.content)
    expect(users).toEqual(['input of 3', 'input of 1', 'input of 3'])
  })

  it('streams a few thousand runs in more than one chunk', async () => {
    const { client } = await startServer()
    const runs = Array.from({ length: 3000 }, (_, i) => kilnRun(String(100000 + i), { output: 'x'.repeat(200) }))
    const response = await client.request({
      method: 'POST',
      path: PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inlineBody(runs))
    })
    expect(response.statusCode).toBe(200)
    let chunks = 0
    let bytes = 0
    let text = ''
    for await (const chunk of response.body) {
      chunks++
      bytes += (chunk as Buffer).length
      text += (chunk as Buffer).toString('utf8')
    }
    expect(chunks).toBeGreaterThan(1)
    expect(bytes).toBeGreaterThan(3000 * 200)
    expect(text.split('\n')).toHaveLength(3001)
  })
})

describe('export errors', () => {
  it('rejects a misspelt top-level key instead of ignoring it', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([kilnRun('1')], { data_stategy: 'final_and_intermediate' }))
    expect(response.status).toBe(400)
    expect(response.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'KEX_VALIDATION_FAILED',
      message: "body has an unknown property 'data_stategy'"
    })
  })

  it('does not coerce types in the body', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([kilnRun('1')], { split_name: 5 }))
    expect(response.status).toBe(400)
    expect((response.json() as { message: string }).message).toBe('body/split_name must be string')
  })

  it('names a missing field and lists the allowed formats', async () => {
    const { client } = await startServer()
    const missing = inlineBody([kilnRun('1')])
    delete missing.system_message
    const response = await postJson(client, PATH, missing)
    expect(response.status).toBe(400)
    expect((response.json() as { message: string }).message).toBe('body/system_message is required')

    const badFormat = await postJson(client, PATH, inlineBody([kilnRun('1')], { format: 'jsonl' }))
    expect((badFormat.json() as { message: string }).message).toBe(
      'body/format must be one of: openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl, ' +
      'huggingface_chat_template_jsonl, huggingface_chat_template_toolcall_jsonl, vertex_gemini_1_5, bedrock_conversation_jsonl, openai_preference_jsonl, huggingface_preference_jsonl, vertex_gemini_preference, vertex_gemini')
  })

  it('checks the Kiln fields the formatter reads, with readable paths', async () => {
    const { client } = await startServer()
    const run = { ...kilnRun('1'), repaired_output: 7 }
    const response = await postJson(client, PATH, inlineBody([run]))
    expect(response.status).toBe(400)
    expect((response.json() as { message: string }).message).toBe('body/task_runs/0/repaired_output must be object or null')
  })

  it('accepts fields a newer Kiln adds to its objects', async () => {
    const { client } = await startServer()
    const run = { ...kilnRun('1'), trace: [{ role: 'user' }], usage: { tokens: 3 }, thinking: 'x' }
    const response = await postJson(client, PATH, inlineBody([run], { task: { name: 'T', instruction: 'x', future: 1 } }))
    expect(response.status).toBe(200)
  })

  it('answers 404 for an unknown split name: Kiln\'s message, then the dataset and its split names', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([kilnRun('1')], { split_name: 'Train' }))
    expect(response.status).toBe(404)
    expect(response.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'KEX_SPLIT_NOT_FOUND',
      message: 'Split Train not found in dataset "Test split" (100000000001): its splits are: train (case-sensitive)'
    })
  })

  it('refuses a body whose dataset_split id differs from the URL', async () => {
    const { client } = await startServer()
    const response = await postJson(client, '/datasets/999999999999/export', inlineBody([kilnRun('1')]))
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({ code: 'KEX_DATASET_ID_MISMATCH' })
  })

  it('refuses half an inline body', async () => {
    const { client } = await startServer()
    const body = inlineBody([kilnRun('1')])
    delete body.task_runs
    const response = await postJson(client, PATH, body)
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({ code: 'KEX_INCOMPLETE_INLINE_BODY' })
  })

  it('answers 404 for a body without inline data while no projects are mounted', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, { split_name: 'train', format: 'openai_chat_jsonl', system_message: '' })
    expect(response.status).toBe(404)
    expect(response.json()).toMatchObject({ code: 'KEX_DATASET_NOT_FOUND' })
  })

  it('lists every missing run, before the first byte', async () => {
    const { client } = await startServer()
    const body = inlineBody([kilnRun('1')], { dataset_split: kilnSplit('100000000001', { train: ['1', '404', '1', '410'] }) })
    const response = await postJson(client, PATH, body)
    expect(response.status).toBe(422)
    expect(response.json()).toMatchObject({
      code: 'KEX_TASK_RUN_NOT_FOUND',
      message: 'Task runs 404, 410 not found. They are required by this dataset.',
      run_ids: ['404', '410']
    })
  })

  it('reports the first failing run\'s error in split order, and every offending run', async () => {
    const { client } = await startServer()
    const runs = [kilnRun('1', { output: '{"a": 1}' }), kilnRun('2', { output: 'not json' }), kilnRun('3', { output: '{"b": NaN}' })]
    const body = inlineBody(runs, { format: 'openai_chat_json_schema_jsonl', dataset_split: kilnSplit('100000000001', { train: ['1', '2', 'gone', '3'] }) })
    const response = await postJson(client, PATH, body)
    expect(response.status).toBe(422)
    const error = response.json() as { code: string, message: string, run_ids: string[], problems: Array<{ run_id: string, code: string }> }
    expect(error.code).toBe('KEX_OUTPUT_NOT_JSON')
    expect(error.message).toBe('Invalid JSON in JSON Schema training set: Expecting value: line 1 column 1 (char 0)\nOutput Data: not json')
    expect(error.run_ids).toEqual(['2', 'gone', '3'])
    expect(error.problems.map((p) => [p.run_id, p.code])).toEqual([
      ['2', 'KEX_OUTPUT_NOT_JSON'], ['gone', 'KEX_TASK_RUN_NOT_FOUND'], ['3', 'KEX_OUTPUT_NOT_FINITE']
    ])
  })

  it('refuses a lone surrogate in any text, even in plaintext formats', async () => {
    const { client } = await startServer()
    const response = await client.request({
      method: 'POST',
      path: PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inlineBody([kilnRun('1')])).replace('"input of 1"', '"input \\ud800 of 1"')
    })
    expect(response.statusCode).toBe(422)
    expect(await response.body.json()).toMatchObject({ code: 'KEX_UNENCODABLE_TEXT', run_ids: ['1'] })
  })

  it('answers malformed JSON, wrong content types and oversized bodies with JSON errors', async () => {
    const { client } = await startServer({ bodyLimit: 2048 })
    const bad = await client.request({ method: 'POST', path: PATH, headers: { 'content-type': 'application/json' }, body: '{"split_name": ' })
    expect(bad.statusCode).toBe(400)
    expect(await bad.body.json()).toMatchObject({ code: 'KEX_INVALID_JSON_BODY' })

    const text = await client.request({ method: 'POST', path: PATH, headers: { 'content-type': 'text/plain' }, body: 'hello' })
    expect(text.statusCode).toBe(415)
    expect(await text.body.json()).toMatchObject({ code: 'KEX_UNSUPPORTED_MEDIA_TYPE' })

    const big = await postJson(client, PATH, inlineBody([kilnRun('1', { output: 'x'.repeat(4096) })]))
    expect(big.status).toBe(413)
    expect(big.json()).toMatchObject({ code: 'KEX_BODY_TOO_LARGE', message: 'Request body is larger than the limit of 2048 bytes (BODY_LIMIT)' })
  })

  it('answers unknown routes with a JSON 404', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/nope?x=1' })
    expect(response.statusCode).toBe(404)
    expect(await response.body.json()).toEqual({ statusCode: 404, error: 'Not Found', code: 'KEX_ROUTE_NOT_FOUND', message: 'Route GET /nope not found' })
  })
})

describe('GET /formats and /health', () => {
  it('lists the formats with the strategies each accepts and their kind', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/formats' })
    const body = await response.body.json() as { formats: Array<{ name: string, data_strategies: string[], parses_output: boolean, kind: string }> }
    expect(body.formats.map((f) => f.name)).toEqual([
      'openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl',
      'huggingface_chat_template_jsonl', 'huggingface_chat_template_toolcall_jsonl', 'vertex_gemini_1_5', 'bedrock_conversation_jsonl',
      'openai_preference_jsonl', 'huggingface_preference_jsonl', 'vertex_gemini_preference', 'vertex_gemini'])
    // Every format takes Kiln's four strategies, as in Kiln today: what Kiln refuses, it refuses per
    // run. Only the OpenAI formats take ours, which needs their reasoning_content field. A preference
    // pair has one assistant message each side: final_only only.
    const text = 'final_only,final_and_intermediate,final_and_intermediate_r1_compatible,two_message_cot'
    const all = `${text},final_and_intermediate_reasoning_field`
    expect(Object.fromEntries(body.formats.map((f) => [f.name, f.data_strategies.join()]))).toEqual({
      openai_chat_jsonl: all,
      openai_chat_json_schema_jsonl: all,
      openai_chat_toolcall_jsonl: all,
      huggingface_chat_template_jsonl: text,
      huggingface_chat_template_toolcall_jsonl: text,
      vertex_gemini_1_5: text,
      bedrock_conversation_jsonl: text,
      openai_preference_jsonl: 'final_only',
      huggingface_preference_jsonl: 'final_only',
      vertex_gemini_preference: 'final_only',
      vertex_gemini: text
    })
    expect(body.formats.filter((f) => f.kind === 'preference').map((f) => f.name)).toEqual([
      'openai_preference_jsonl', 'huggingface_preference_jsonl', 'vertex_gemini_preference'])
    expect(body.formats.find((f) => f.name === 'vertex_gemini')).toMatchObject({ alias_of: 'vertex_gemini_1_5' })
    expect(body.formats.filter((f) => f.parses_output).map((f) => f.name)).toEqual([
      'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl', 'huggingface_chat_template_toolcall_jsonl'])
  })

  it('answers /health', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/health' })
    expect(response.statusCode).toBe(200)
    expect(await response.body.json()).toEqual({ status: 'ok' })
  })
})
