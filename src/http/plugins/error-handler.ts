import fp from 'fastify-plugin'
import { RETRY_AFTER_SECONDS, RouteNotFoundError } from '../../errors.js'
import { toErrorBody } from '../error-body.js'
import { dropJsonlHeaders } from '../jsonl-reply.js'

/**
 * One error handler for the whole API: JSON bodies with a KEX_ code, never a stack trace, and
 * 5xx details only in the log. A not-found handler answers unknown routes the same way.
 * @see https://fastify.dev/docs/latest/Reference/Server/#seterrorhandler
 */
export default fp(async (app, options: { bodyLimit: number }) => {
  app.setErrorHandler((err, request, reply) => {
    const response = toErrorBody(err, options.bodyLimit)
    if (response.statusCode === 503) {
      // Load, not a fault: no stack, and a hint of when to come back.
      request.log.warn({ code: response.code, statusCode: 503 }, 'request refused: retry later')
      if (!reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    } else if (response.statusCode >= 500) {
      request.log.error({ err, request: { method: request.method, url: request.url } }, 'request failed')
    } else {
      request.log.info({ code: response.code, statusCode: response.statusCode, runs: response.run_ids?.length }, 'request rejected')
    }
    // Headers may already be out if a stream failed; Fastify then cuts the connection itself.
    if (reply.sent || reply.raw.headersSent) return
    // Refused before its body was read (auth, overload): close rather than read the rest, which
    // Node would otherwise do to keep the connection alive.
    if (!request.raw.complete) reply.header('connection', 'close')
    // A failed export must not keep the attachment, line count or trailers of a success.
    dropJsonlHeaders(reply)
    return reply.status(response.statusCode).type('application/json; charset=utf-8').send(response)
  })
  app.setNotFoundHandler((request, reply) => {
    const response = toErrorBody(new RouteNotFoundError(request.method, request.url.split('?')[0] ?? ''), options.bodyLimit)
    return reply.status(404).send(response)
  })
}, { name: 'error-handler' })
