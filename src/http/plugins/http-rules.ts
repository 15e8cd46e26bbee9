import fp from 'fastify-plugin'
import { BadRequestError, ExpectationFailedError } from '../../errors.js'

/** Node's test for an Expect header it handles itself (_http_server.js `continueExpression`). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i

/**
 * Two HTTP/1.1 rules Node enforces with a bare answer and no body: a missing Host header (400,
 * RFC 9112 section 3.2) and an Expect other than 100-continue (417). The app turns Node's check
 * off (`requireHostHeader: false`) and the request is handed on, so both are refused here in the
 * API's error format. Both close the connection, as Node does.
 * @see https://nodejs.org/api/http.html#event-checkexpectation
 */
export default fp(async (app) => {
  app.server.on('checkExpectation', (req, res) => { app.server.emit('request', req, res) })
  app.addHook('onRequest', async (request, reply) => {
    const { httpVersion, headers } = request.raw
    if (httpVersion !== '1.1') return
    if (headers.host === undefined) {
      reply.header('connection', 'close')
      throw new BadRequestError('An HTTP/1.1 request needs a Host header')
    }
    if (headers.expect !== undefined && !CONTINUE.test(headers.expect)) {
      reply.header('connection', 'close')
      throw new ExpectationFailedError()
    }
  })
}, { name: 'http-rules' })
