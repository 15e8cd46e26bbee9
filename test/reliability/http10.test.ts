import { unlink } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { hookedCatalog } from '../helpers/faulty-catalog.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { jsonRequest, rawRequest } from '../helpers/raw-http.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * RFC 9112 section 6.1: chunked framing (and so trailers) must not be sent to an HTTP/1.0
 * client. A 1.0 export is delimited by the connection's close instead.
 */

const PATH = '/datasets/100000000001/export'
const BODY = inlineBody(Array.from({ length: 200 }, (_, i) => kilnRun(String(i), { output: `réponse ${i} 🎉` })))

describe('an HTTP/1.0 export', () => {
  it('has no chunk framing or trailers, exactly the JSONL bytes, and ends with the connection', async () => {
    const { client, origin } = await startServer()
    const expected = await postJson(client, PATH, BODY)
    expect(expected.status).toBe(200)

    const response = await rawRequest(origin, jsonRequest('POST', PATH, BODY, '1.0'))
    expect(response.statusLine).toMatch(/^HTTP\/1\.[01] 200 /)
    expect(response.headers['transfer-encoding']).toBeUndefined()
    expect(response.headers.trailer).toBeUndefined()
    expect(response.headers['content-type']).toBe('application/jsonl; charset=utf-8')
    expect(response.headers.connection).toBe('close')
    expect(response.headers['x-export-line-count']).toBe('200')
    expect(response.body.toString('utf8')).toBe(expected.text)
    expect(response.ending).toBe('end')
  })

  it('is compressed without chunking when asked', async () => {
    const { client, origin } = await startServer()
    const expected = await postJson(client, PATH, BODY)
    const response = await rawRequest(origin, jsonRequest('POST', PATH, BODY, '1.0', { 'accept-encoding': 'gzip' }))
    expect(response.status).toBe(200)
    expect(response.headers['content-encoding']).toBe('gzip')
    expect(response.headers['transfer-encoding']).toBeUndefined()
    expect(response.headers.trailer).toBeUndefined()
    expect(response.headers['x-export-line-count']).toBe('200')
    expect(gunzipSync(response.body).toString('utf8')).toBe(expected.text)
    expect(response.ending).toBe('end')
  })

  it('still gets chunked framing and trailers over HTTP/1.1', async () => {
    const { origin } = await startServer()
    const response = await rawRequest(origin, jsonRequest('POST', PATH, inlineBody([kilnRun('1')]), '1.1', { connection: 'close' }))
    expect(response.headers['transfer-encoding']).toBe('chunked')
    expect(response.body.toString('latin1')).toMatch(/\r\n0\r\nx-export-lines: 1\r\nx-export-sha256: [0-9a-f]{64}\r\n\r\n$/)
  })

  it('is reset, never closed cleanly, when it fails after the first byte', async () => {
    const project = await makeKilnProject()
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    for (const id of ['1', '2', '3']) await project.writeRun(id)
    // Run 3 vanishes between the check pass and the streaming pass.
    const catalog = hookedCatalog(new KilnProjects(project.root), async (pass) => {
      if (pass === 2) await unlink(project.runFile('3'))
    })
    const { origin } = await startServer({}, { catalog, exportTuning: { bufferBytes: 1, chunkBytes: 1 } })
    const response = await rawRequest(origin, jsonRequest('POST', '/datasets/900000000001/export',
      { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }, '1.0'))
    expect(response.status).toBe(200)
    expect(response.headers['x-export-line-count']).toBe('3')
    // A close-delimited body cut by a clean FIN would look complete: the server must reset instead.
    expect(response.ending).toBe('ECONNRESET')
  })
})
