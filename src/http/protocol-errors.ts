import { STATUS_CODES, maxHeaderSize } from 'node:http'
import { type Socket } from 'node:net'
import { type ConnectionError, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError, ValidationFailedError } from '../errors.js'
import { toErrorBody } from './error-body.js'
import { DATASET_ID_MAX_LENGTH } from './schemas/export-request.js'
import { type ErrorResponse } from './schemas/error-response.js'

/*
 * Errors raised before a request reaches our routes: by Node's HTTP parser (`clientError`) and
 * by Fastify's router (`frameworkErrors`). Their default answers have no KEX_ code (or none at
 * all); these answer in the API's error format instead.
 */

/** The error answer for a parse or timeout error of Node's HTTP server. */
function clientErrorBody (err: ConnectionError & { reason?: unknown }): ErrorResponse {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return toErrorBody(new HeadersTooLargeError(maxHeaderSize), 0)
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return toErrorBody(new RequestTimeoutError(), 0)
  }
  // llhttp's reasons are fixed texts ("Invalid method encountered"), never request bytes.
  const reason = typeof err.reason === 'string' ? `: ${err.reason}` : ''
  return toErrorBody(new BadRequestError(`Malformed HTTP request${reason}`), 0)
}

/** Whether a response on this socket has already put bytes on the wire (Node's own check). */
function responseStarted (socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  return inFlight?.headersSent === true
}

/**
 * Fastify's `clientErrorHandler`: answer a request Node could not parse (or that timed out) with
 * the JSON error body and close the connection, as Node's default does, unless the socket is gone
 * or a response is already half sent (a second answer would corrupt it).
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
export function clientErrorHandler (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const response = clientErrorBody(err)
  // A client's fault, not ours: no stack, and never the raw bytes.
  this.log.info({ code: response.code, statusCode: response.statusCode, parserCode: err.code }, 'request rejected by the HTTP parser')
  if (socket.writable && !responseStarted(socket)) {
    const json = JSON.stringify(response)
    socket.write(`HTTP/1.1 ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? 'Error'}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`)
  }
  socket.destroy(err)
}

/**
 * Fastify's `frameworkErrors`: a path parameter over the router's limit (only dataset ids have
 * one) is the schema's 400, and a malformed percent-encoding is a 400 KEX_BAD_REQUEST.
 * @see https://fastify.dev/docs/latest/Reference/Server/#frameworkerrors
 */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const response = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? toErrorBody(new ValidationFailedError(`params/id must NOT have more than ${DATASET_ID_MAX_LENGTH} characters`), 0)
    : error.code === 'FST_ERR_BAD_URL'
      ? toErrorBody(new BadRequestError('The URL path has a malformed percent-encoding'), 0)
      : toErrorBody(error, 0)
  request.log.info({ code: response.code, statusCode: response.statusCode }, 'request rejected')
  // These answers skip the app's hooks: set the request id here.
  reply.header('x-request-id', request.id).status(response.statusCode).type('application/json; charset=utf-8').send(response)
}
