import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { inlineBody, kilnRun, kilnSplit } from '../helpers/kiln-data.js'
import { getText, underLag } from '../helpers/lag.js'
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
    // Lag the event loop the server shares with this test, well past the limit (helpers/lag.ts says why it may take more than one sample).
    const response = await underLag(async () => await getText(server.client, '/formats'), (answer) => answer.status === 503)
    expect(response.status).toBe(503)
    expect(response.headers['retry-after']).toBe('5')
    expect(JSON.parse(response.text)).toMatchObject({ code: 'KEX_OVERLOADED' })
  })
})
