import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ExportIntegrityError, KilnExportApiError, KilnExportClient, type ExportParams } from '../../src/client/index.js'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { postJson, startServer } from '../helpers/server.js'

const EXAMPLE_ID = '150621256807'
const PARAMS: ExportParams = {
  split_name: 'train',
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_and_intermediate',
  system_message: 'Write a one-line joke about the topic.',
  thinking_instructions: 'Brainstorm three angles first.'
}

async function exampleServer (config: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(config, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
  return { ...server, api: new KilnExportClient({ baseUrl: server.origin }) }
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-client-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

async function collect (lines: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = []
  for await (const line of lines) result.push(line)
  return result
}

describe('KilnExportClient against the real service', () => {
  it('lists the mounted dataset splits and describes one', async () => {
    const { api, client } = await exampleServer()
    const datasets = await api.listDatasets()
    expect(datasets.map((d) => d.id)).toEqual([EXAMPLE_ID])
    const raw = await client.request({ method: 'GET', path: '/datasets' })
    expect({ datasets, problems: [] }).toEqual(await raw.body.json())
    const dataset = await api.getDataset(EXAMPLE_ID)
    expect(dataset.name).toBe('Jokes v1')
    expect(dataset.splits).toEqual([{ name: 'train', run_count: 6 }, { name: 'test', run_count: 2 }])
  })

  it('exports under Kiln\'s current options: vertex_gemini, tools from the request, include_tool_calls', async () => {
    const { api } = await exampleServer()
    const trace = [
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a": 1, "b": 2}' } }] },
      { role: 'tool', content: '3', tool_call_id: 'c1' }
    ]
    const body = inlineBody([kilnRun('1', { output: '3', trace })], { format: 'vertex_gemini' }) as unknown as ExportParams
    const tools = [{ type: 'function' as const, function: { name: 'add', parameters: { type: 'object' } } }]
    const withTrace = await collect(api.exportDataset('100000000001', { ...body, tools }))
    expect(withTrace).toHaveLength(1)
    expect(withTrace[0]).toContain('{"functionCall": {"name": "add", "args": {"a": 1, "b": 2}}}')
    expect(withTrace[0]).toContain('"tools": [{"functionDeclarations": [{"name": "add", "parameters": {"type": "OBJECT"}}]}]')
    const without = await collect(api.exportDataset('100000000001', { ...body, include_tool_calls: false }))
    expect(without[0]).not.toContain('functionCall')
  })

  it('lists the formats with their data strategies', async () => {
    const { api } = await exampleServer()
    const formats = await api.listFormats()
    expect(formats.map((f) => f.name)).toContain('openai_chat_jsonl')
    for (const format of formats) expect(format.data_strategies).toContain('final_only')
    expect(await api.health()).toEqual({ status: 'ok' })
  })

  it('throws KilnExportApiError with the status, code and message for an unknown dataset', async () => {
    const { api } = await exampleServer()
    const err = await api.getDataset('999999999999').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KilnExportApiError)
    expect(err).toMatchObject({ status: 404, code: 'KEX_DATASET_NOT_FOUND', message: expect.stringMatching(/^Dataset split 999999999999 not found in the mounted Kiln projects: GET \/datasets lists/) })
    expect((err as KilnExportApiError).requestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('yields the export\'s lines, identical to the raw body split on \\n', async () => {
    const { api, client } = await exampleServer()
    const raw = await postJson(client, `/datasets/${EXAMPLE_ID}/export`, PARAMS)
    const lines = await collect(api.exportDataset(EXAMPLE_ID, PARAMS))
    expect(lines).toHaveLength(6)
    expect(lines.map((l) => `${l}\n`).join('')).toBe(raw.text)
  })

  it('keeps U+2028, U+2029 and U+0085 inside a line (only \\n splits)', async () => {
    const { api } = await exampleServer()
    const output = 'one\u2028two\u2029three\u0085four'
    const body = inlineBody([kilnRun('1', { output }), kilnRun('2')])
    const lines = await collect(api.exportDataset(String((body.dataset_split as { id: string }).id), body as ExportParams))
    expect(lines).toHaveLength(2)
    expect(lines[0]).toContain(output)
  })

  it('exposes the file name and a verified summary once the body is read', async () => {
    const { api } = await exampleServer()
    const download = await api.openExport(EXAMPLE_ID, PARAMS)
    expect(download.fileName).toBe('Jokes v1 -- split-train -- format-openai_chat_json_schema_jsonl -- cot.jsonl')
    expect(download.announcedLines).toBe(6)
    expect(download.skippedRuns).toBeUndefined()
    expect(download.summary).toBeUndefined()
    await collect(download.lines())
    expect(download.summary).toMatchObject({ lines: 6, verifiedByTrailers: true })
    expect(download.summary?.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('sends pair_by and reads the skipped-run count of a preference export', async () => {
    const { api } = await exampleServer()
    const body = inlineBody([kilnRun('1', { repaired: 'better' }), kilnRun('2')], { format: 'openai_preference_jsonl', pair_by: 'repair' })
    const download = await api.openExport(String((body.dataset_split as { id: string }).id), body as ExportParams)
    expect(download.skippedRuns).toBe(1)
    expect(download.announcedLines).toBe(1)
    expect(await collect(download.lines())).toEqual([
      '{"input": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "input of 1"}]}, ' +
      '"preferred_output": [{"role": "assistant", "content": "better"}], "non_preferred_output": [{"role": "assistant", "content": "output of 1"}]}'])
    expect(download.summary).toMatchObject({ lines: 1, verifiedByTrailers: true })
  })

  it('throws the data error with Kiln\'s message and every offending run id, before any line', async () => {
    const { api } = await exampleServer()
    const body = inlineBody([kilnRun('1', { output: 'not json' }), kilnRun('2', { output: '{"ok": 1}' }), kilnRun('3', { output: '{' })], { format: 'openai_chat_json_schema_jsonl' })
    const seen: string[] = []
    const err = await (async () => { for await (const line of api.exportDataset('100000000001', body as ExportParams)) seen.push(line) })().catch((e: unknown) => e)
    expect(seen).toEqual([])
    expect(err).toBeInstanceOf(KilnExportApiError)
    const apiError = err as KilnExportApiError
    expect(apiError.status).toBe(422)
    expect(apiError.code).toBe('KEX_OUTPUT_NOT_JSON')
    expect(apiError.message).toMatch(/^Invalid JSON in JSON Schema training set: /)
    expect(apiError.runIds).toEqual(['1', '3'])
    expect(apiError.problems.map((p) => p.run_id)).toEqual(['1', '3'])
  })

  it('throws a 400 with the field named for an invalid request', async () => {
    const { api } = await exampleServer()
    const err = await api.openExport(EXAMPLE_ID, { ...PARAMS, format: 'csv' } as unknown as ExportParams).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 400, code: 'KEX_VALIDATION_FAILED' })
    expect((err as Error).message).toContain('body/format must be one of')
  })

  it('writes exportToFile atomically, with the exact bytes of the API', async () => {
    const { api, client } = await exampleServer()
    const dir = await tempDir()
    const result = await api.exportToFile(EXAMPLE_ID, PARAMS, join(dir, 'train.jsonl'))
    const raw = await postJson(client, `/datasets/${EXAMPLE_ID}/export`, PARAMS)
    expect(await readFile(join(dir, 'train.jsonl'), 'utf8')).toBe(raw.text)
    expect(result).toMatchObject({ path: join(dir, 'train.jsonl'), lines: 6, bytes: Buffer.byteLength(raw.text), verifiedByTrailers: true })
    expect(await readdir(dir)).toEqual(['train.jsonl'])
  })

  it('leaves no file behind when exportToFile is refused', async () => {
    const { api } = await exampleServer()
    const dir = await tempDir()
    const err = await api.exportToFile(EXAMPLE_ID, { ...PARAMS, split_name: 'validation' }, join(dir, 'out.jsonl')).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 404, code: 'KEX_SPLIT_NOT_FOUND', message: expect.stringMatching(/^Split validation not found in dataset "/) })
    expect(await readdir(dir)).toEqual([])
  })

  it('sends the bearer token, and reports a wrong one as KEX_UNAUTHORIZED', async () => {
    const token = 'a-long-enough-test-token'
    const { origin } = await exampleServer({ apiToken: token })
    const good = new KilnExportClient({ baseUrl: origin, token })
    expect((await good.listDatasets()).length).toBe(1)
    const bad = new KilnExportClient({ baseUrl: origin, token: 'wrong-token-of-some-length' })
    await expect(bad.listDatasets()).rejects.toMatchObject({ status: 401, code: 'KEX_UNAUTHORIZED' })
  })

  it('keeps a path prefix of the base URL (a service behind a proxy)', async () => {
    const { origin } = await exampleServer()
    const api = new KilnExportClient({ baseUrl: `${origin}/`, retries: 0 })
    expect((await api.listDatasets()).length).toBe(1)
    const prefixed = new KilnExportClient({ baseUrl: `${origin}/kiln`, retries: 0 })
    await expect(prefixed.listDatasets()).rejects.toMatchObject({ status: 404, code: 'KEX_ROUTE_NOT_FOUND', message: 'Route GET /kiln/datasets not found' })
  })

  it('does not mistake an integrity error for an API error', () => {
    expect(new ExportIntegrityError('sha256', 'x')).not.toBeInstanceOf(KilnExportApiError)
  })
})
