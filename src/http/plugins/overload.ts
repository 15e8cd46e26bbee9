import fp from 'fastify-plugin'
import { OverloadedError, RETRY_AFTER_SECONDS, ShuttingDownError } from '../../errors.js'
import { watchPressure, type PressureOptions } from '../pressure.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Why the service should get no new work now (shutting down, pressure), or undefined: readiness. */
    notReady: () => Error | undefined
  }
}

/**
 * Overload protection: 503 + Retry-After when the event loop lags or the heap fills up (as
 * @fastify/under-pressure did, see pressure.ts), and `notReady()` for `/ready`, which also says
 * no while the service shuts down (plugins/shutdown.ts, registered first, refuses those requests
 * itself). Probe routes are left to answer for themselves: liveness must not fail because the
 * service is busy.
 * @see https://github.com/fastify/under-pressure
 */
export default fp(async (app, options: PressureOptions) => {
  const pressure = watchPressure(options)
  app.addHook('onClose', async () => { pressure.stop() })
  app.decorate('notReady', () => app.shuttingDown ? new ShuttingDownError() : pressure.reason === undefined ? undefined : new OverloadedError())
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.probe === true || pressure.reason === undefined) return
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    throw new OverloadedError()
  })
}, { name: 'overload', dependencies: ['shutdown'] })
