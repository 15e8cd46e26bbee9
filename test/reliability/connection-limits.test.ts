import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { parseAnswer, rawConnection } from '../helpers/raw-connection.js'
import { startServer } from '../helpers/server.js'

const STALLED_BODY = 'POST /datasets/100000000001/export HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"split'

/** GET /health on a fresh connection: the status, or undefined when the server closed it unanswered. */
async function health (origin: string): Promise<number | undefined> {
  const { received } = await rawConnection(origin, 'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  const text = await received
  return text === '' ? undefined : parseAnswer(text).status
}

describe('connection limits', () => {
  it('close connections past MAX_CONNECTIONS on arrival, and accept again once one ends', async () => {
    const { origin } = await startServer({ maxConnections: 3 })
    const held = await Promise.all([1, 2, 3].map(async () => await rawConnection(origin, STALLED_BODY)))
    expect(await health(origin)).toBe(undefined)
    held[0]?.socket.destroy()
    let status: number | undefined
    for (let i = 0; i < 100 && status === undefined; i++) {
      await sleep(50)
      status = await health(origin)
    }
    expect(status).toBe(200)
  })

  it('answer a head that does not arrive within HEADERS_TIMEOUT_MS with 408 KEX_REQUEST_TIMEOUT and close', async () => {
    const { origin } = await startServer({ headersTimeoutMs: 1000, requestTimeoutMs: 60_000 })
    const { received } = await rawConnection(origin, 'POST /datasets/100000000001/export HTTP/1.1\r\nhost: x\r\n')
    const answer = parseAnswer(await received)
    expect(answer.status).toBe(408)
    expect(answer.headers).toContain('connection: close')
    expect(answer.body).toEqual({
      statusCode: 408,
      error: 'Request Timeout',
      code: 'KEX_REQUEST_TIMEOUT',
      message: 'The request did not arrive in time: send its head within HEADERS_TIMEOUT_MS and the whole request within REQUEST_TIMEOUT_MS'
    })
  })

  it('answer a body that does not arrive within REQUEST_TIMEOUT_MS with 408 KEX_REQUEST_TIMEOUT and close', async () => {
    const { origin } = await startServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 })
    const { received } = await rawConnection(origin, STALLED_BODY)
    const answer = parseAnswer(await received)
    expect(answer.status).toBe(408)
    expect(answer.body).toMatchObject({ code: 'KEX_REQUEST_TIMEOUT' })
  })
})
