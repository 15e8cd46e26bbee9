import { describe, expect, it } from 'vitest'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { capturingLogger } from '../helpers/logs.js'
import { parseAnswer, rawConnection } from '../helpers/raw-connection.js'
import { startServer } from '../helpers/server.js'

const TOKEN = 'a-long-secret-token-0123456789'

describe('API_TOKEN', () => {
  it('requires the bearer token on every API route but the probes and the docs', async () => {
    const { logger, text } = capturingLogger()
    const { client } = await startServer({ apiToken: TOKEN }, { logger })
    const body = JSON.stringify(inlineBody([kilnRun('1')]))
    const exportWith = async (authorization?: string) => {
      const response = await client.request({
        method: 'POST',
        path: '/datasets/100000000001/export',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body
      })
      return { status: response.statusCode, headers: response.headers, text: await response.body.text() }
    }

    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer ']) {
      const refused = await exportWith(authorization)
      expect(refused.status, String(authorization)).toBe(401)
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="kiln-export"')
      expect(JSON.parse(refused.text)).toMatchObject({ code: 'KEX_UNAUTHORIZED' })
    }
    expect((await exportWith(`Bearer ${TOKEN}`)).status).toBe(200)
    expect((await exportWith(`bearer ${TOKEN}`)).status).toBe(200)

    for (const path of ['/datasets', '/formats', '/datasets/1']) {
      const response = await client.request({ method: 'GET', path })
      expect(response.statusCode, path).toBe(401)
      await response.body.dump()
    }
    for (const path of ['/health', '/ready', '/docs/', '/openapi.json']) {
      const response = await client.request({ method: 'GET', path })
      expect(response.statusCode, path).toBe(200)
      await response.body.dump()
    }
    // Neither the token nor the request body ever reaches the logs.
    const log = text()
    expect(log).toContain('request completed')
    expect(log).not.toContain(TOKEN)
    expect(log).not.toContain('input of 1')
  })

  it('refuses a request without the token before reading its body, and closes the connection', async () => {
    const { origin } = await startServer({ apiToken: TOKEN })
    // A 100 MB body of which only the first bytes are ever sent: the 401 must not wait for the rest,
    // and the server must close the connection rather than read (and discard) 100 MB.
    const { received } = await rawConnection(origin,
      'POST /datasets/100000000001/export HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{"split_name": "tr')
    const answer = parseAnswer(await received)
    expect(answer.status).toBe(401)
    expect(answer.headers).toContain('connection: close')
    expect(answer.body).toMatchObject({ statusCode: 401, code: 'KEX_UNAUTHORIZED' })
  })

  it('leaves every route open when unset', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/formats' })
    expect(response.statusCode).toBe(200)
    await response.body.dump()
  })
})
