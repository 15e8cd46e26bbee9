import { STATUS_CODES } from 'node:http'
import { type Socket } from 'node:net'
import { type ConnectionError, type FastifyInstance } from 'fastify'
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError } from '../errors.js'

/**
 * Answer what Node's HTTP parser refuses before Fastify sees a request (a head or body that did
 * not arrive within HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS, an oversized head, malformed HTTP) in
 * the API's error format, then close the connection. Fastify's default answers without a KEX_ code.
 * @see https://fastify.dev/docs/latest/Reference/Server/#clienterrorhandler
 */
export function clientErrorHandler (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const error = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new RequestTimeoutError()
    : err.code === 'HPE_HEADER_OVERFLOW' ? new HeadersTooLargeError() : new BadRequestError('Malformed HTTP request')
  const status = error.statusCode
  const text = STATUS_CODES[status] ?? 'Error'
  this.log.info({ code: error.code, statusCode: status }, 'connection refused')
  const body = JSON.stringify({ statusCode: status, error: text, code: error.code, message: error.message })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
