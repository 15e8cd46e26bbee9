import { type FastifyRequest } from 'fastify'

/** What replaces a secret in the logs (pino's own censor text). */
const CENSOR = '[REDACTED]'

/** pino `redact` paths: credentials that may sit in a logged object. */
export const LOG_REDACT_PATHS: readonly string[] = ['req.headers.authorization']

/** Query parameters that carry credentials (any case): refused by auth, never logged. */
const SECRET_QUERY = /([?&;]access_token=)[^&;#]*/gi

/**
 * A URL fit for the logs: the value of an `access_token` query parameter is masked. The API takes
 * tokens only in the Authorization header, but clients used to OAuth send `?access_token=`.
 */
export function redactUrl (url: string): string {
  return url.replace(SECRET_QUERY, `$1${CENSOR}`)
}

/**
 * Fastify's `req` serializer (method, url, host, remote address; not `version`, which only route
 * versioning uses) with the URL redacted: Fastify's own logs the URL verbatim.
 * @see https://github.com/fastify/fastify/blob/main/lib/logger-pino.js
 */
function serializeRequest (request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}

/** Serializers the app installs on whatever logger it is given. */
export const LOG_SERIALIZERS = { req: serializeRequest }
