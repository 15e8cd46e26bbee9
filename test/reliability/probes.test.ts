import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { parseAnswer, rawConnection } from '../helpers/raw-connection.js'
import { underLag } from '../helpers/lag.js'
import { startServer } from '../helpers/server.js'

describe('liveness (/health) and readiness (/ready)', () => {
  it('under pressure: /health stays 200, /ready answers 503 KEX_OVERLOADED until the pressure passes', async () => {
    const { client } = await startServer({ maxEventLoopDelayMs: 200 })
    const get = async (path: string) => {
      const response = await client.request({ method: 'GET', path })
      return { status: response.statusCode, headers: response.headers, body: await response.body.json() }
    }
    // Both in one turn of the loop, so they see the same sample.
    const [health, ready] = await underLag(async () => await Promise.all([get('/health'), get('/ready')]), ([, r]) => r.status === 503)
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(ready.status).toBe(503)
    expect(ready.headers['retry-after']).toBe('5')
    expect(ready.body).toEqual({ statusCode: 503, error: 'Service Unavailable', code: 'KEX_OVERLOADED', message: 'The service is under pressure: retry later' })

    let status = ready.status
    for (let i = 0; i < 100 && status !== 200; i++) {
      await sleep(100)
      status = (await get('/ready')).status
    }
    expect(status).toBe(200)
    expect((await get('/ready')).body).toEqual({ status: 'ready' })
  })

  it('while shutting down: /health stays 200, /ready answers 503 KEX_SHUTTING_DOWN', async () => {
    const { app, origin } = await startServer()
    // Two requests already begun (half a head each) when the shutdown starts, finished after it.
    const health = await rawConnection(origin, 'GET /health HTTP/1.1\r\n')
    const ready = await rawConnection(origin, 'GET /ready HTTP/1.1\r\n')
    // Accepted, and their first bytes read (a turn of the loop later): not idle, so not closed at once.
    const connections = async (): Promise<number> => await new Promise((resolve) => app.server.getConnections((_err, n) => resolve(n)))
    while (await connections() < 2) await sleep(10)
    await sleep(100)
    const closed = app.close()
    // The server stops listening after the preClose hooks, so the service knows it is closing.
    while (app.server.listening) await sleep(10)
    health.socket.write('host: x\r\n\r\n')
    ready.socket.write('host: x\r\n\r\n')
    const healthAnswer = parseAnswer(await health.received)
    const readyAnswer = parseAnswer(await ready.received)
    await closed
    expect(healthAnswer).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(readyAnswer.status).toBe(503)
    expect(readyAnswer.headers).toContain('retry-after: 5')
    expect(readyAnswer.body).toMatchObject({ statusCode: 503, code: 'KEX_SHUTTING_DOWN' })
  })
})
