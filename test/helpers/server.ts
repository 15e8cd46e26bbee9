import { type FastifyInstance } from 'fastify'
import { Client } from 'undici'
import { onTestFinished } from 'vitest'
import { buildApp, type AppConfig, type AppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

/** A running app on a real port and an undici client connected to it. */
export interface TestServer {
  readonly app: FastifyInstance
  readonly origin: string
  readonly client: Client
}

/**
 * Start the real app on 127.0.0.1:0 with an undici Client (short keep-alive so closing is quick).
 * Both are closed when the calling test finishes, pass or fail.
 */
export async function startServer (config: Partial<AppConfig> = {}, options: AppOptions = {}): Promise<TestServer> {
  const server = await listen(config, options)
  onTestFinished(server.close)
  return server
}

/** Like startServer, but the caller closes it (for one server shared by a whole file). */
export async function listen (config: Partial<AppConfig> = {}, options: AppOptions = {}): Promise<TestServer & { close: () => Promise<void> }> {
  // The service's defaults, as an empty environment gives them, with the test's overrides. The
  // event-loop and heap limits are off unless a test asks: a loaded CI machine lags while it loads
  // test files, and a 503 there would say nothing about the code under test.
  const app = await buildApp({ ...loadConfig({}), maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0, ...config }, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')
  const origin = `http://127.0.0.1:${address.port}`
  const client = new Client(origin, { keepAliveTimeout: 10, keepAliveMaxTimeout: 10 })
  const close = async (): Promise<void> => {
    // destroy, not close: a failed test may leave a response body unread.
    await client.destroy()
    await app.close()
  }
  return { app, origin, client, close }
}

/** POST a JSON body and read the whole answer. */
export async function postJson (client: Client, path: string, body: unknown): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string, json: () => unknown }> {
  const response = await client.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const text = await response.body.text()
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) as unknown }
}
