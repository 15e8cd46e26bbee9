import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { UnauthorizedError } from '../../errors.js'

/** Routes open without a token: the probes, and the docs a person needs to find the Authorize button. */
const PUBLIC_PREFIXES = ['/health', '/ready', '/docs', '/openapi.json']

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function isPublic (url: string): boolean {
  const path = url.split('?')[0] ?? ''
  return PUBLIC_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
}

/**
 * Optional bearer-token auth (API_TOKEN). Tokens are compared as SHA-256 digests with
 * timingSafeEqual, so the comparison takes the same time whatever the guess. The token is never
 * logged: Fastify's request log holds no headers, and a token sent as `?access_token=` (refused)
 * is masked in logged URLs (log-redaction.ts).
 */
export default fp(async (app, options: { token: string | undefined }) => {
  const { token } = options
  if (token === undefined) return
  const expected = digest(token)
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.url)) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer (.+)$/i.exec(header)
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)) return
    reply.header('www-authenticate', 'Bearer realm="kiln-export"')
    throw new UnauthorizedError()
  })
}, { name: 'auth' })
