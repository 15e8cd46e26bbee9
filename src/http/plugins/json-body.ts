import { isUtf8 } from 'node:buffer'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import { InvalidJsonBodyError, InvalidUtf8BodyError, NestingTooDeepError } from '../../errors.js'
import { describeJsonPath, nestingTooDeepMessage, tooDeepAt } from '../../json-depth.js'

/**
 * The JSON body parser. Fastify's own decodes invalid UTF-8 into U+FFFD, which would silently
 * corrupt training text; this one refuses such bodies (400), then parses with secure-json-parse
 * (refusing `__proto__`/`constructor` keys) like Fastify's default. Duplicate keys follow JSON
 * (the last one wins), as in Kiln's Python. A body nested deeper than MAX_JSON_DEPTH is refused
 * here (400 naming where), before schema validation or the formatter walk it recursively.
 * @see https://fastify.dev/docs/latest/Reference/ContentTypeParser/
 */
export default fp(async (app) => {
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const buffer = body as Buffer
    if (buffer.length === 0) return done(new InvalidJsonBodyError('the body is empty'), undefined)
    if (!isUtf8(buffer)) return done(new InvalidUtf8BodyError(), undefined)
    let value: unknown
    try {
      value = secureJson.parse(buffer.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' })
    } catch (err) {
      return done(new InvalidJsonBodyError((err as Error).message), undefined)
    }
    const deep = tooDeepAt(value)
    if (deep !== undefined) return done(new NestingTooDeepError(nestingTooDeepMessage(describeJsonPath('body', deep))), undefined)
    done(null, value)
  })
}, { name: 'json-body' })
