import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigError, EXAMPLE_PROJECT_DIR, loadConfig } from '../../src/config.js'
import { REPORT_EXAMPLE } from '../../src/http/schemas/report-example.js'
import { type ProfileList } from '../../src/http/schemas/validation-profiles.js'
import { DEFAULT_PRICES_FILE } from '../../src/validate/reference-files.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type ValidationReport } from '../../src/validate/index.js'
import { exportParams, loadFixtures, requestBody, type ConformanceCase, type Fixture } from '../helpers/conformance.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { postJson, startServer } from '../helpers/server.js'

const EXAMPLE_ID = '150621256807'
/** The body of REPORT_EXAMPLE (the OpenAPI document's example report). */
const EXAMPLE_BODY = { split_name: 'train', format: 'openai_chat_json_schema_jsonl', system_message: 'Write a one-line joke about the topic.' }

const fixtures = loadFixtures()
function fixtureCase (fixtureName: string, caseId: string): { fixture: Fixture, testCase: ConformanceCase } {
  const fixture = fixtures.find((f) => f.name === fixtureName)
  const testCase = fixture?.cases.find((c) => c.case_id === caseId)
  if (fixture === undefined || testCase === undefined) throw new Error(`no case ${caseId} in ${fixtureName}`)
  return { fixture, testCase }
}

/** `code run_id` of every problem of a split. */
function problems (report: ValidationReport, split: string): string[] {
  return (report.splits.find((s) => s.name === split)?.problems ?? []).map((p) => `${p.code} ${p.run_id ?? '-'}`)
}

async function mountedExample () {
  return await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
}

describe('POST /datasets/:id/validate', () => {
  it('answers the example project\'s report as JSON, exactly the one the OpenAPI document shows', async () => {
    const { client } = await mountedExample()
    const response = await postJson(client, `/datasets/${EXAMPLE_ID}/validate`, EXAMPLE_BODY)
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.json()).toEqual(REPORT_EXAMPLE)
  })

  it('validates every split when split_name is left out, and tells at a glance which will train', async () => {
    const { client } = await mountedExample()
    const response = await postJson(client, `/datasets/${EXAMPLE_ID}/validate`, { format: 'vertex_gemini_1_5', system_message: 'Write a joke.', epochs: 2 })
    const report = response.json() as ValidationReport
    expect(response.status).toBe(200)
    expect(report.provider_profile).toMatchObject({ name: 'vertex_gemini', model: 'gemini-3.5-flash', max_validation_examples: 5000, status: 'available' })
    expect(report.splits.map((s) => [s.name, s.role, s.status, s.run_count])).toEqual([['train', 'training', 'warnings', 6], ['test', 'test', 'ok', 2]])
    expect(problems(report, 'train')).toEqual(['FEW_TRAINING_EXAMPLES -'])
    expect(report.summary[0]).toMatch(/^train \[training\]: passes with warnings \(0 errors, 1 warning\); 6 examples, [\d,]+ tokens; [\d,]+ billed tokens \(2 epochs\), no price$/)
    expect(report.summary[1]).toMatch(/^test \[test\]: passes \(0 errors, 0 warnings\); 2 examples, [\d,]+ tokens$/)
  })

  it('names the known problems of a conformance fixture sent inline, by code and run id', async () => {
    const { client } = await startServer()
    const { fixture, testCase } = fixtureCase('f1_support_replies', 'main.train__openai_chat_jsonl__final_and_intermediate__no_ti')
    const body = { ...requestBody(fixture, testCase), split_name: undefined }
    const response = await postJson(client, `/datasets/${testCase.dataset_split_id}/validate`, body)
    expect(response.status).toBe(200)
    const report = response.json() as ValidationReport
    expect(problems(report, 'train')).toEqual([
      'RUN_IN_SEVERAL_SPLITS 373095127898',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 238949364214',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 130396710776',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 257948613097',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 176088407813',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 675869224270'
    ])
    expect(problems(report, 'test')).toEqual([
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 246239915318',
      'RUN_IN_SEVERAL_SPLITS 373095127898'
    ])
    expect(problems(report, 'val')).toEqual([
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 227455347322',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 290332019023',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 201314591273'
    ])
    expect(report).toMatchObject({ status: 'errors', error_count: 9, warning_count: 2 })
  })

  it('names the invalid JSON outputs of a mounted conformance project, and its deleted run', async () => {
    const f2 = fixtures.find((f) => f.name === 'f2_recipe_extraction')
    const f1 = fixtures.find((f) => f.name === 'f1_support_replies')
    if (f1 === undefined || f2 === undefined) throw new Error('fixtures missing')
    const { client } = await startServer({}, { catalog: new KilnProjects(join(f2.dir, 'project')) })
    const { testCase } = fixtureCase('f2_recipe_extraction', 'bad_json.train__openai_chat_json_schema_jsonl__final_only__std')
    const badJson = await postJson(client, `/datasets/${testCase.dataset_split_id}/validate`, { ...exportParams(testCase), split_name: 'train' })
    expect(problems(badJson.json() as ValidationReport, 'train')).toEqual(['KEX_OUTPUT_NOT_JSON 286234271004'])

    const mountedF1 = await startServer({}, { catalog: new KilnProjects(join(f1.dir, 'project')) })
    const stale = fixtureCase('f1_support_replies', 'stale.train__openai_chat_jsonl__final_only__std').testCase
    const report = (await postJson(mountedF1.client, `/datasets/${stale.dataset_split_id}/validate`, exportParams(stale))).json() as ValidationReport
    expect(problems(report, 'train')).toEqual(['KEX_TASK_RUN_NOT_FOUND 152956569114'])
  })

  it('refuses request errors as the export does: unknown fields, models and splits; reports what Kiln refuses per run', async () => {
    const { client } = await mountedExample()
    const path = `/datasets/${EXAMPLE_ID}/validate`
    const typo = await postJson(client, path, { ...EXAMPLE_BODY, provider_profil: 'openai' })
    expect(typo.json()).toMatchObject({ statusCode: 400, code: 'KEX_VALIDATION_FAILED', message: 'body has an unknown property \'provider_profil\'' })
    const model = await postJson(client, path, { ...EXAMPLE_BODY, model: 'gpt-5' })
    expect(model.json()).toMatchObject({ statusCode: 400, code: 'KEX_VALIDATION_FAILED' })
    expect((model.json() as { message: string }).message).toMatch(/^body\/model gpt-5 is not one of the fireworks profile's models: gemma-4-26b-a4b-it, /)
    const profile = await postJson(client, path, { ...EXAMPLE_BODY, provider_profile: 'anthropic' })
    expect(profile.json()).toMatchObject({ statusCode: 400, message: 'body/provider_profile must be one of: openai, vertex_gemini, huggingface, fireworks, together, bedrock_nova' })
    const split = await postJson(client, path, { ...EXAMPLE_BODY, split_name: 'Train' })
    expect(split.json()).toMatchObject({ statusCode: 404, code: 'KEX_SPLIT_NOT_FOUND', message: 'Split Train not found in dataset "Jokes v1" (150621256807): its splits are: train, test (case-sensitive)' })
    const dataset = await postJson(client, '/datasets/404404404404/validate', EXAMPLE_BODY)
    expect(dataset.json()).toMatchObject({ statusCode: 404, code: 'KEX_DATASET_NOT_FOUND' })
    // What Kiln refuses per run is a data problem of the report, as in the export (422 there).
    const strategy = await postJson(client, path, { ...EXAMPLE_BODY, format: 'vertex_gemini', data_strategy: 'final_and_intermediate_r1_compatible', thinking_instructions: 'Think.' })
    expect(strategy.status).toBe(200)
    const report = strategy.json() as { splits: Array<{ exportable: boolean, problem_counts: Record<string, number>, run_count: number }> }
    for (const split of report.splits) {
      expect(split.exportable).toBe(split.run_count === 0)
      expect(split.problem_counts.KEX_THINKING_INSTRUCTIONS_NOT_SUPPORTED ?? 0).toBe(split.run_count)
    }
  })

  it('estimates the cost with the request\'s price and epochs: billed tokens x epochs x price', async () => {
    const { client } = await mountedExample()
    const response = await postJson(client, `/datasets/${EXAMPLE_ID}/validate`, { ...EXAMPLE_BODY, epochs: 4, price_per_million_tokens: 2.5 })
    const cost = (response.json() as ValidationReport).splits[0]?.cost
    // 306 tokens x 4 epochs = 1,224 billed tokens; x 2.5 / 1,000,000 = 0.00306
    expect(cost).toEqual({
      billed_tokens_per_epoch: 306,
      epochs: 4,
      epochs_source: 'request',
      billed_tokens: 1224,
      price_per_million_tokens: 2.5,
      currency: 'USD',
      price_source: 'request (price_per_million_tokens)',
      estimated_cost: 0.00306
    })
  })
})

describe('POST /datasets/:id/export?validate=strict', () => {
  it('refuses with 422 and the report when the report has errors, sending no JSONL; the closing profile\'s warnings do not refuse', async () => {
    const { client } = await mountedExample()
    // The format's profile (fireworks) finds nothing: the export streams.
    const fireworks = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=strict`, EXAMPLE_BODY)
    expect(fireworks.status).toBe(200)
    expect(fireworks.text.split('\n')).toHaveLength(7)
    // OpenAI wants 10 examples: an error, next to the warnings that it is closing.
    const report = (await postJson(client, `/datasets/${EXAMPLE_ID}/validate`, { ...EXAMPLE_BODY, provider_profile: 'openai' })).json() as ValidationReport
    expect(problems(report, 'train')).toEqual(['PROFILE_CLOSING -', 'MODEL_CLOSING -', 'TOO_FEW_TRAINING_EXAMPLES -'])
    const response = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=strict&provider_profile=openai`, EXAMPLE_BODY)
    expect(response.status).toBe(422)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.headers['content-disposition']).toBeUndefined()
    expect(response.json()).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      code: 'KEX_VALIDATION_REPORT_ERRORS',
      message: 'The validation report has 1 error; first: TOO_FEW_TRAINING_EXAMPLES: 6 examples: OpenAI supervised fine-tuning (chat) needs at least 10',
      report
    })
    // With enough examples only the warnings remain, and the export streams.
    const runs = Array.from({ length: 10 }, (_, i) => kilnRun(String(i + 1)))
    const closing = await postJson(client, '/datasets/100000000001/export?validate=strict&provider_profile=openai', inlineBody(runs))
    expect(closing.status).toBe(200)
    expect(closing.headers['x-export-line-count']).toBe('10')
  })

  it('streams the same bytes as a plain export when the report has no errors', async () => {
    const { client } = await startServer()
    const runs = Array.from({ length: 10 }, (_, i) => kilnRun(String(i + 1)))
    const plain = await postJson(client, '/datasets/100000000001/export', inlineBody(runs))
    const strict = await postJson(client, '/datasets/100000000001/export?validate=strict', inlineBody(runs))
    expect(strict.status).toBe(200)
    expect(strict.headers['content-type']).toBe('application/jsonl; charset=utf-8')
    expect(strict.headers['x-export-line-count']).toBe('10')
    expect(strict.text).toBe(plain.text)
  })

  it('checks the profile the query names', async () => {
    const { client } = await mountedExample()
    const huggingface = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=strict&provider_profile=huggingface`,
      { ...EXAMPLE_BODY, format: 'huggingface_chat_template_jsonl' })
    expect(huggingface.status).toBe(200)
    expect(huggingface.text.split('\n')).toHaveLength(7)
    const vertex = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=strict&provider_profile=vertex_gemini`, EXAMPLE_BODY)
    expect(vertex.status).toBe(422)
    expect((vertex.json() as { report: ValidationReport }).report.splits[0]?.problem_counts).toEqual({ VERTEX_UNKNOWN_LINE_KEY: 6, VERTEX_MISSING_CONTENTS: 6, FEW_TRAINING_EXAMPLES: 1 })
  })

  it('refuses a misspelt or unknown validation mode rather than export unchecked', async () => {
    const { client } = await mountedExample()
    const lax = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=lax`, EXAMPLE_BODY)
    expect(lax.json()).toMatchObject({ statusCode: 400, code: 'KEX_VALIDATION_FAILED', message: 'querystring/validate must be one of: strict' })
    const typo = await postJson(client, `/datasets/${EXAMPLE_ID}/export?valdate=strict`, EXAMPLE_BODY)
    expect(typo.json()).toMatchObject({ statusCode: 400, code: 'KEX_VALIDATION_FAILED', message: 'querystring has an unknown property \'valdate\'' })
    const model = await postJson(client, `/datasets/${EXAMPLE_ID}/export?validate=strict&model=gpt-5`, EXAMPLE_BODY)
    expect((model.json() as { message: string }).message).toMatch(/^querystring\/model gpt-5 is not one of the fireworks profile's models: /)
  })
})

describe('GET /validation/profiles', () => {
  it('lists the profiles with their status, models, limits, prices and dated sources', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/validation/profiles' })
    const body = await response.body.json() as ProfileList
    expect(response.statusCode).toBe(200)
    expect(body.profiles.map((p) => [p.name, p.status.state, p.models_checked_on, p.default_model])).toEqual([
      ['openai', 'closing', '2026-12-05', 'gpt-4o-mini-2024-07-18'],
      ['vertex_gemini', 'available', '2026-12-05', 'gemini-3.5-flash'],
      ['huggingface', 'available', '2026-11-26', 'any'],
      ['fireworks', 'available', '2026-12-05', 'qwen3-8b'],
      ['together', 'available', '2026-12-05', 'moonshotai/Kimi-K2-Instruct-0905'],
      ['bedrock_nova', 'available', '2026-12-05', 'amazon.nova-lite-v1:0']
    ])
    const [openai, vertex, , fireworks, together] = body.profiles
    expect(openai?.status).toMatchObject({ since: '2026-05-07', until: '2027-01-06', source: 'https://developers.openai.com/api/docs/deprecations' })
    expect(openai?.models[0]).toMatchObject({ name: 'gpt-4o-mini-2024-07-18', tokenizer: 'o200k_base', max_tokens_per_example: 65536, price_per_million_tokens: 3, available_until: '2027-01-14' })
    expect(vertex?.models.filter((m) => m.retired === undefined).map((m) => m.name)).toEqual(['gemini-3.5-flash', 'gemini-3.5-flash-lite', 'gemini-3.1-flash-lite'])
    expect(vertex?.models.find((m) => m.name === 'gemini-2.5-flash')?.retired).toBe('2026-10-16')
    expect(fireworks).toMatchObject({ formats: ['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl', 'openai_preference_jsonl'], min_training_examples: 3, max_training_examples: 3000000 })
    expect(fireworks?.models.find((m) => m.name === 'glm-5p1')).toMatchObject({ max_tokens_per_example: 200000, price_per_million_tokens: null })
    expect(together).toMatchObject({ formats: fireworks?.formats, min_training_examples: null, recommended_min_training_examples: 100, default_epochs: 1 })
    for (const profile of body.profiles) {
      expect(profile.sources.length).toBeGreaterThan(0)
      for (const source of profile.sources) expect(source.read_on).toMatch(/^20\d\d-\d\d-\d\d$/)
    }
  })
})

describe('PRICES_FILE', () => {
  async function pricesFile (content: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-export-prices-'))
    onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
    const path = join(dir, 'prices.json')
    await writeFile(path, content)
    return path
  }

  it('replaces the bundled price table', async () => {
    const table = JSON.parse(await readFile(DEFAULT_PRICES_FILE, 'utf8')) as { as_of: string, providers: { openai: { models: Record<string, { training_per_million_tokens: number }> } } }
    table.as_of = '2030-01-01'
    table.providers.openai.models['gpt-4o-mini-2024-07-18'] = { training_per_million_tokens: 10 }
    const path = await pricesFile(JSON.stringify(table))
    const { client } = await startServer(loadConfig({ PRICES_FILE: path }), { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const report = (await postJson(client, `/datasets/${EXAMPLE_ID}/validate`, { ...EXAMPLE_BODY, provider_profile: 'openai' })).json() as ValidationReport
    // 4,896 billed tokens x 10 / 1,000,000
    expect(report.splits[0]?.cost).toMatchObject({ price_per_million_tokens: 10, price_source: 'PRICES_FILE as of 2030-01-01', estimated_cost: 0.04896 })
  })

  it('stops the service from starting when it is not a valid price table', async () => {
    const path = await pricesFile('{"as_of": "2030-01-01", "providers": {}}')
    await expect(buildApp(loadConfig({ PRICES_FILE: path }))).rejects.toThrow(ConfigError)
    await expect(buildApp(loadConfig({ PRICES_FILE: path }))).rejects.toThrow(/^PRICES_FILE \/.* is not valid: \/ must have required property 'currency'$/)
  })

  it('is optional: the bundled table is the default', () => {
    expect(loadConfig({}).pricesFile).toBeUndefined()
    expect(loadConfig({ PRICES_FILE: 'prices.json' }).pricesFile).toBe(join(process.cwd(), 'prices.json'))
  })
})
