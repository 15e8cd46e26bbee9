import { STATUS_CODES } from 'node:http'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'
import { jsonRequest, rawRequest, type RawResponse } from '../helpers/raw-http.js'
import { startServer } from '../helpers/server.js'

/*
 * Malformed requests at every layer (Node's HTTP parser, Fastify's router, the body parsers, the
 * schemas): each answer must be the documented error body with a catalogued KEX_ code.
 */

const EXPORT = '/datasets/100000000001/export'
const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: '' }
const HEAD = 'host: localhost\r\nconnection: close'

interface Case {
  readonly name: string
  readonly request: string | Buffer
  readonly status: number
  readonly code: string
  readonly halfClose?: boolean
}

function post (path: string, contentType: string, body: string | Buffer, extra = ''): Buffer {
  const head = `POST ${path} HTTP/1.1\r\n${HEAD}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)])
}

const CASES: Case[] = [
  { name: 'a request line that is not HTTP', request: 'HELLO\r\n\r\n', status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'an unknown HTTP version', request: `GET /health HTTP/7.3\r\n${HEAD}\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'a method the parser does not know', request: `BREW /formats HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'a method the route does not have', request: `DELETE /formats HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 405, code: 'KEX_METHOD_NOT_ALLOWED' },
  { name: 'a method on a path no route has', request: `DELETE /nowhere HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 404, code: 'KEX_ROUTE_NOT_FOUND' },
  { name: 'a WebDAV method', request: `PROPFIND /formats HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 405, code: 'KEX_METHOD_NOT_ALLOWED' },
  { name: 'an unknown route', request: `GET /nope HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 404, code: 'KEX_ROUTE_NOT_FOUND' },
  { name: 'oversized headers', request: `GET /health HTTP/1.1\r\n${HEAD}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'KEX_HEADERS_TOO_LARGE' },
  { name: 'an oversized URL', request: `GET /health?${'q'.repeat(20_000)} HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 431, code: 'KEX_HEADERS_TOO_LARGE' },
  { name: 'a control character in a header', request: `GET /health HTTP/1.1\r\n${HEAD}\r\nx-bad: a\u0001b\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'no Host header in HTTP/1.1', request: 'GET /health HTTP/1.1\r\nconnection: close\r\n\r\n', status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'a Content-Length that is not a number', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ncontent-length: abc\r\n\r\n{}`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'two different Content-Lengths', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'Content-Length with chunked encoding', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'an invalid chunk size', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'a body cut short by the client', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{"split`, status: 400, code: 'KEX_BAD_REQUEST', halfClose: true },
  { name: 'a dataset id over 100 characters', request: jsonRequest('POST', `/datasets/${'9'.repeat(101)}/export`, PARAMS, '1.1', { connection: 'close' }), status: 400, code: 'KEX_VALIDATION_FAILED' },
  { name: 'a very long dataset id', request: `GET /datasets/${'9'.repeat(5000)} HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 400, code: 'KEX_VALIDATION_FAILED' },
  { name: 'a malformed percent-encoding in the path', request: `GET /datasets/%zz HTTP/1.1\r\n${HEAD}\r\n\r\n`, status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'malformed JSON', request: post(EXPORT, 'application/json', '{"split_name":'), status: 400, code: 'KEX_INVALID_JSON_BODY' },
  { name: 'an empty JSON body', request: post(EXPORT, 'application/json', ''), status: 400, code: 'KEX_INVALID_JSON_BODY' },
  { name: 'invalid UTF-8', request: post(EXPORT, 'application/json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), status: 400, code: 'KEX_INVALID_UTF8' },
  { name: 'a wrong content type', request: post(EXPORT, 'text/csv', 'a,b'), status: 415, code: 'KEX_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a schema violation', request: post(EXPORT, 'application/json', JSON.stringify({ ...PARAMS, format: 'csv' })), status: 400, code: 'KEX_VALIDATION_FAILED' },
  { name: 'an unknown query parameter', request: post(`${EXPORT}?strict=1`, 'application/json', JSON.stringify(PARAMS)), status: 400, code: 'KEX_VALIDATION_FAILED' },
  { name: 'a body over BODY_LIMIT', request: post(EXPORT, 'application/json', JSON.stringify({ ...PARAMS, system_message: 'x'.repeat(5000) })), status: 413, code: 'KEX_BODY_TOO_LARGE' },
  { name: 'a gzip body that is not gzip', request: post(EXPORT, 'application/json', 'not gzip', 'content-encoding: gzip\r\n'), status: 400, code: 'KEX_BAD_REQUEST' },
  { name: 'an unknown content encoding', request: post(EXPORT, 'application/json', '{}', 'content-encoding: zstd-ish\r\n'), status: 415, code: 'KEX_BAD_REQUEST' },
  { name: 'an unmet Expect header', request: `POST ${EXPORT} HTTP/1.1\r\n${HEAD}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nexpect: 200-ok\r\n\r\n{}`, status: 417, code: 'KEX_EXPECTATION_FAILED' }
]

function expectDocumentedError (response: RawResponse, status: number): { code: string } {
  expect(response.status).toBe(status)
  expect(response.headers['content-type']).toMatch(/^application\/json/)
  const body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode'])
  expect(body).toMatchObject({ statusCode: status, error: STATUS_CODES[status] })
  expect(body.code).toMatch(/^KEX_[A-Z0-9_]+$/)
  expect(ERROR_CODES).toContain(body.code)
  expect(body.message).toEqual(expect.any(String))
  return body as { code: string }
}

describe('every malformed request', () => {
  it.each(CASES)('gets the documented JSON error with a KEX_ code: $name', async ({ request, status, code, halfClose }) => {
    const { origin } = await startServer({ bodyLimit: 1024 })
    const response = await rawRequest(origin, request, { halfClose })
    expect(expectDocumentedError(response, status).code).toBe(code)
  })

  it('says how long a dataset id may be', async () => {
    const { origin } = await startServer()
    const response = await rawRequest(origin, jsonRequest('POST', `/datasets/${'9'.repeat(101)}/export`, PARAMS, '1.1', { connection: 'close' }))
    expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ message: 'params/id must NOT have more than 100 characters' })
  })

  it('closes the connection after a parse error, and the server keeps serving', async () => {
    const { origin, client } = await startServer()
    const response = await rawRequest(origin, `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(response.headers.connection).toBe('close')
    expect(response.ending).toBe('end')
    const health = await client.request({ method: 'GET', path: '/health' })
    expect(health.statusCode).toBe(200)
    await health.body.dump()
  })

  it('answers a request that timed out with 408 KEX_REQUEST_TIMEOUT', async () => {
    const { app, origin } = await startServer()
    // Node checks REQUEST_TIMEOUT_MS every 30 s: stand in for its timer with the error it raises.
    app.server.once('connection', (socket) => {
      socket.once('data', () => {
        app.server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket)
      })
    })
    const response = await rawRequest(origin, 'GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ')
    expect(expectDocumentedError(response, 408).code).toBe('KEX_REQUEST_TIMEOUT')
    expect(response.headers.connection).toBe('close')
  })
})
