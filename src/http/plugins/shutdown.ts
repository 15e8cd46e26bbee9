import fp from 'fastify-plugin'
import { RETRY_AFTER_SECONDS, ShuttingDownError } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once the app started closing (preClose): new requests get 503 KEX_SHUTTING_DOWN. */
    readonly shuttingDown: boolean
  }
  interface FastifyContextConfig {
    /** A probe route (/health, /ready): answers for itself, never refused for load or shutdown. */
    probe?: boolean
  }
}

/**
 * Graceful shutdown: once the app closes, a request that arrives on a kept-alive connection gets
 * 503 + Retry-After + `Connection: close` (in our error format; app.ts turns off Fastify's own
 * return503OnClosing), and every connection ends once its response is done, so a kept-alive client
 * cannot hold the shutdown open until the grace period runs out. Probe routes answer for themselves.
 * @see https://fastify.dev/docs/latest/Reference/Server/#return503onclosing
 */
export default fp(async (app) => {
  let closing = false
  app.decorate('shuttingDown', { getter: () => closing })
  app.addHook('onRequest', async (request, reply) => {
    if (!closing || request.routeOptions.config.probe === true) return
    reply.header('connection', 'close')
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    throw new ShuttingDownError()
  })
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onResponse', async (request) => {
    if (closing) request.raw.socket.end()
  })
}, { name: 'shutdown' })
