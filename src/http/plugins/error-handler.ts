import { type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { MethodNotAllowedError, RETRY_AFTER_SECONDS, RouteNotFoundError } from '../../errors.js'
import { toErrorBody } from '../error-body.js'
import { dropJsonlHeaders } from '../jsonl-reply.js'
import { redactUrl } from '../log-redaction.js'
import { type ErrorResponse } from '../schemas/error-response.js'

/** An abort caused by the client leaving (the route aborts its work when the response closes). */
function clientLeft (err: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
  const gone = reply.raw.destroyed || request.raw.destroyed || request.raw.socket?.destroyed === true
  return gone && err instanceof Error && err.name === 'AbortError'
}

/**
 * Log an outcome at the level it deserves: only a bug (KEX_INTERNAL) is an error, with its stack.
 * Overload refusals (503) and clients that left are expected under load: warn and info, no stack.
 */
function logOutcome (err: unknown, request: FastifyRequest, reply: FastifyReply, response: ErrorResponse): void {
  const { code, statusCode } = response
  if (clientLeft(err, request, reply)) {
    request.log.info('request aborted: the client went away')
  } else if (statusCode === 503) {
    request.log.warn({ code, statusCode }, 'request refused: retry later')
  } else if (statusCode >= 500) {
    request.log.error({ err, request: { method: request.method, url: redactUrl(request.url) } }, 'request failed')
  } else {
    request.log.info({ code, statusCode, runs: response.run_ids?.length }, 'request rejected')
  }
}

/**
 * One error handler for the whole API: JSON bodies with a KEX_ code, never a stack trace, and
 * 5xx details only in the log. A not-found handler answers unknown routes the same way.
 * @see https://fastify.dev/docs/latest/Reference/Server/#seterrorhandler
 */
export default fp(async (app, options: { bodyLimit: number }) => {
  // The routes by path pattern, to answer a known path with the wrong method 405 + Allow, not 404.
  const routes: Array<{ pattern: RegExp, methods: Set<string> }> = []
  app.addHook('onRoute', (route) => {
    const source = route.url.replace(/\/+$/, '').split('/').map((part) =>
      part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')
    const pattern = new RegExp(`^${source}/?$`)
    let entry = routes.find((r) => r.pattern.source === pattern.source)
    if (entry === undefined) routes.push(entry = { pattern, methods: new Set() })
    for (const method of [route.method].flat()) entry.methods.add(method)
  })

  app.setErrorHandler((err, request, reply) => {
    const response = toErrorBody(err, options.bodyLimit, { contentType: request.headers['content-type'] })
    logOutcome(err, request, reply, response)
    // Load, not a fault: a hint of when to come back.
    if (response.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
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
    const path = request.url.split('?')[0] ?? ''
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]))].sort()
    if (allowed.length > 0) {
      const response = toErrorBody(new MethodNotAllowedError(request.method, path, allowed.join(', ')), options.bodyLimit)
      return reply.status(405).header('allow', allowed.join(', ')).send(response)
    }
    const response = toErrorBody(new RouteNotFoundError(request.method, path), options.bodyLimit)
    return reply.status(404).send(response)
  })
}, { name: 'error-handler' })
