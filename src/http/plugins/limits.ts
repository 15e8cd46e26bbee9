import fp from 'fastify-plugin'
import { OverloadedError, RETRY_AFTER_SECONDS, ShuttingDownError } from '../../errors.js'
import { ExportSlots, type ExportSlotsOptions } from '../export-slots.js'
import { watchPressure } from '../pressure.js'

declare module 'fastify' {
  interface FastifyInstance {
    exportSlots: ExportSlots
    /** Why the service should get no new work now (pressure, shutting down), or undefined: readiness. */
    notReady: () => Error | undefined
  }
  interface FastifyContextConfig {
    /** A probe route (/health, /ready): answers for itself, never refused for load or shutdown. */
    probe?: boolean
  }
}

export interface LimitsOptions extends ExportSlotsOptions {
  readonly maxEventLoopDelayMs: number
  readonly maxHeapUsedBytes: number
}

/**
 * Overload protection: 503 + Retry-After when the event loop lags or the heap fills up (as
 * @fastify/under-pressure did, see pressure.ts); export slots (export-slots.ts); and 503 for requests
 * that arrive on kept-alive connections while the service shuts down. Probe routes are left to
 * answer for themselves: liveness must not fail because the service is busy.
 * @see https://github.com/fastify/under-pressure
 */
export default fp(async (app, options: LimitsOptions) => {
  const pressure = watchPressure(options)
  let closing = false
  app.addHook('onClose', async () => { pressure.stop() })
  app.decorate('notReady', () => closing ? new ShuttingDownError() : pressure.reason === undefined ? undefined : new OverloadedError())
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.probe === true) return
    const refusal = app.notReady()
    if (refusal === undefined) return
    if (closing) reply.header('connection', 'close')
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    throw refusal
  })

  app.decorate('exportSlots', new ExportSlots(options))

  app.addHook('preClose', async () => { closing = true })
  // While closing, end each connection once its response is done: a kept-alive client must not
  // hold the shutdown open until the grace period runs out.
  app.addHook('onResponse', async (request) => {
    if (closing) request.raw.socket.end()
  })
}, { name: 'limits' })
