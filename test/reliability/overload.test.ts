import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { inlineBody, kilnRun, kilnSplit } from '../helpers/kiln-data.js'
import { postJson, startServer } from '../helpers/server.js'

const PATH = '/datasets/100000000001/export'

describe('overload protection', () => {
  it('answers 503 with Retry-After past MAX_CONCURRENT_EXPORTS, and accepts again once a slot frees', async () => {
    const server = await startServer({ maxConcurrentExports: 1 })
    // A 10 MB answer that the first client does not read: the export stays open on backpressure.
    const big = inlineBody([kilnRun('1', { output: 'z'.repeat(2000) })], {
      dataset_split: kilnSplit('100000000001', { train: Array.from({ length: 5000 }, () => '1') })
    })
    const controller = new AbortController()
    const slow = await server.client.request({
      method: 'POST', path: PATH, headers: { 'content-type': 'application/json' }, body: JSON.stringify(big), signal: controller.signal
    })
    expect(slow.statusCode).toBe(200)
    expect(server.app.exportSlots.active).toBe(1)

    // A second connection: the first one is busy with the unread export.
    const other = new Client(server.origin)
    onTestFinished(async () => { await other.destroy() })
    const refused = await postJson(other, PATH, inlineBody([kilnRun('1')]))
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('5')
    expect(refused.json()).toMatchObject({ code: 'KEX_TOO_MANY_EXPORTS', message: '1 exports are already running (MAX_CONCURRENT_EXPORTS): retry later' })

    controller.abort()
    await slow.body.dump().catch(() => undefined)
    for (let i = 0; i < 100 && server.app.exportSlots.active > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    const accepted = await postJson(other, PATH, inlineBody([kilnRun('1')]))
    expect(accepted.status).toBe(200)
  })

  it('answers 503 with Retry-After while the event loop lags', async () => {
    const server = await startServer({ maxEventLoopDelayMs: 20 })
    // Block the event loop the server shares with this test, well past the limit. The pressure
    // watch (as @fastify/under-pressure) takes the MEAN delay of its 10 ms ticks over each 1 s
    // sample, so one long block between many normal ticks can average out below the limit: block
    // three times with only a turn of the loop in between, so every tick of the sample that
    // precedes the request is a long one.
    for (let block = 0; block < 3; block++) {
      const until = Date.now() + 700
      while (Date.now() < until) { /* busy */ }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const response = await server.client.request({ method: 'GET', path: '/formats' })
    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('5')
    expect(await response.body.json()).toMatchObject({ code: 'KEX_OVERLOADED' })
  })
})
