import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { type ValidationReport } from '../../src/validate/index.js'
import { inlineBody, kilnRun, kilnSplit } from '../helpers/kiln-data.js'
import { postJson, startServer, type TestServer } from '../helpers/server.js'

/*
 * A small validation request that asks for a lot of work (a 4 MiB text on every line, a word of
 * millions of letters) must not freeze the service: /health keeps answering while it runs, and a
 * request over the work limit gets a clear 422 instead of tying up a core.
 */

const MiB = 1024 * 1024
const SPLIT_ID = '100000000001'
const VALIDATE = `/datasets/${SPLIT_ID}/validate`
const PROSE = 'The quick brown fox jumps over the lazy dog, and then it rests. '
const prose = (chars: number): string => PROSE.repeat(Math.ceil(chars / PROSE.length)).slice(0, chars)

type Answer = Awaited<ReturnType<typeof postJson>>

/**
 * Send `body` to `path`, and meanwhile ask /health again and again on another connection. Counts
 * the /health answers that arrive while the request holds its slot, i.e. while it is being worked
 * on: a request that blocks the event loop from start to end lets at most the one /health request
 * already waiting through before it answers.
 */
async function whilePolling (server: TestServer, path: string, body: unknown): Promise<{ answer: Answer, healthDuring: number }> {
  // Load the tokenizer first: its loading is asynchronous and would let /health in on its own.
  const warm = await postJson(server.client, VALIDATE, inlineBody([kilnRun('1')]))
  expect(warm.status).toBe(200)
  const health = new Client(server.origin, { keepAliveTimeout: 10, keepAliveMaxTimeout: 10 })
  onTestFinished(async () => { await health.destroy() })
  const state = { done: false }
  let healthDuring = 0
  const polling = (async () => {
    while (!state.done) {
      const response = await health.request({ method: 'GET', path: '/health' })
      await response.body.dump()
      expect(response.statusCode).toBe(200)
      if (!state.done && server.app.exportSlots.active > 0) healthDuring++
    }
  })()
  const answer = await postJson(server.client, path, body)
  state.done = true
  await polling
  return { answer, healthDuring }
}

describe('the work of one validation request', () => {
  it('answers a 4 MiB system message on a run listed 256 times, and /health answers meanwhile', async () => {
    const server = await startServer()
    const body = inlineBody([kilnRun('1')], {
      system_message: prose(4 * MiB),
      dataset_split: kilnSplit(SPLIT_ID, { train: Array(256).fill('1') }),
      // The format's profile (fireworks) has no limit for its default model: name one, so every line is over it.
      max_tokens_per_example: 65536
    })
    const { answer, healthDuring } = await whilePolling(server, VALIDATE, body)
    expect(answer.status, answer.text.slice(0, 300)).toBe(200)
    const report = answer.json() as ValidationReport
    expect(report.splits[0]).toMatchObject({ run_count: 256, line_count: 256 })
    expect(report.splits[0]?.problem_counts).toMatchObject({ DUPLICATE_RUN_ID: 255, EXAMPLE_OVER_TOKEN_LIMIT: 256 })
    expect(report.splits[0]?.tokens?.min).toBe(report.splits[0]?.tokens?.max)
    expect(healthDuring).toBeGreaterThanOrEqual(3)
  }, 120_000)

  it('answers a word of 4 million letters, and /health answers meanwhile', async () => {
    // gpt-tokenizer's merge is quadratic in a word's length: counted whole, this word would take hours.
    const server = await startServer()
    const body = inlineBody([kilnRun('1', { input: 'x'.repeat(4 * MiB) })])
    const { answer, healthDuring } = await whilePolling(server, VALIDATE, body)
    expect(answer.status, answer.text.slice(0, 300)).toBe(200)
    expect((answer.json() as ValidationReport).splits[0]?.tokens?.total).toBeGreaterThan(100_000)
    expect(healthDuring).toBeGreaterThanOrEqual(3)
  }, 120_000)

  it('refuses with 422 KEX_VALIDATION_TOO_LARGE, at once, a 4 MiB tool description written on 256 lines', async () => {
    const server = await startServer()
    const runs = Array.from({ length: 256 }, (_, i) => kilnRun(String(i + 1)))
    const body = inlineBody(runs, { tools: [{ type: 'function', function: { name: 'f', description: prose(4 * MiB) } }] })
    for (const path of [VALIDATE, `/datasets/${SPLIT_ID}/export?validate=strict`]) {
      const answer = await postJson(server.client, path, body)
      expect(answer.status).toBe(422)
      expect(answer.json()).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'KEX_VALIDATION_TOO_LARGE',
        message: 'The system message and tool descriptions (4,194,313 characters) would be written on each of 256 lines: at least 1,073,744,128 characters ' +
          'to check, over the limit of 536,870,912. Validate one split or fewer runs, shorten the system message or tool descriptions, ' +
          'or raise VALIDATE_MAX_CHARS.'
      })
    }
    // The export itself has no such limit: it streams what the client reads.
    const exported = await server.client.request({
      method: 'POST', path: `/datasets/${SPLIT_ID}/export`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, dataset_split: kilnSplit(SPLIT_ID, { train: ['1'] }) })
    })
    expect(exported.statusCode).toBe(200)
    await exported.body.dump()
  }, 120_000)

  it('refuses with 422 once the work passes VALIDATE_MAX_CHARS, and says how to get under it', async () => {
    expect(loadConfig({}).validateMaxChars).toBe(512 * MiB)
    expect(loadConfig({ VALIDATE_MAX_CHARS: '20000' }).validateMaxChars).toBe(20_000)
    const server = await startServer({ validateMaxChars: loadConfig({ VALIDATE_MAX_CHARS: '20000' }).validateMaxChars })
    const runs = Array.from({ length: 200 }, (_, i) => kilnRun(String(i + 1), { output: `answer ${i} `.repeat(20) }))
    const answer = await postJson(server.client, VALIDATE, inlineBody(runs))
    expect(answer.status).toBe(422)
    expect(answer.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', code: 'KEX_VALIDATION_TOO_LARGE' })
    expect((answer.json() as { message: string }).message).toBe('This validation needs more than its limit of 20,000 characters of work: the lines it formats ' +
      'and checks, plus the texts it tokenizes (a text repeated on many lines counts once). Validate one split or fewer runs, ' +
      'shorten the system message or tool descriptions, or raise VALIDATE_MAX_CHARS.')
    // Fewer runs fit.
    const fewer = await postJson(server.client, VALIDATE, inlineBody(runs.slice(0, 20)))
    expect(fewer.status).toBe(200)
  })
})
