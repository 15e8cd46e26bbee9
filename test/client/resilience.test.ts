import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ExportIntegrityError, KilnExportApiError, KilnExportClient, parseRetryAfter, type ExportParams } from '../../src/client/index.js'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { startServer } from '../helpers/server.js'

/*
 * What the real service does not do on demand: 503s, corrupted trailers, a connection cut
 * mid-body. A small node:http server plays the service; each test says what it answers.
 */

const PARAMS: ExportParams = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }
const BODY = '{"messages": [1]}\n{"messages": [2]}\n{"messages": [3]}\n'
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: number) => void

/** A fake service on 127.0.0.1; `requests` counts what reached it. Closed when the test ends. */
async function fakeService (handler: Handler): Promise<{ origin: string, requests: () => number }> {
  let count = 0
  const server = createServer((request, response) => {
    count++
    request.resume()
    request.once('end', () => handler(request, response, count))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  onTestFinished(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count }
}

/** A JSONL answer with trailers, as the service sends it. */
function sendJsonl (response: ServerResponse, body: string, trailers: { lines?: string, sha?: string } = {}): void {
  response.writeHead(200, {
    'content-type': 'application/jsonl; charset=utf-8',
    'content-disposition': 'attachment; filename="x.jsonl"',
    'x-export-line-count': '3',
    trailer: 'x-export-lines, x-export-sha256'
  })
  response.write(body)
  response.addTrailers({
    'x-export-lines': trailers.lines ?? String(body.split('\n').length - 1),
    'x-export-sha256': trailers.sha ?? sha256(body)
  })
  response.end()
}

function sendBusy (response: ServerResponse, retryAfter: string): void {
  response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': retryAfter })
  response.end(JSON.stringify({ statusCode: 503, error: 'Service Unavailable', code: 'KEX_TOO_MANY_EXPORTS', message: '1 exports are already running (MAX_CONCURRENT_EXPORTS): retry later' }))
}

/** A client that records its waits instead of sleeping. */
function clientFor (origin: string, options: { retries?: number, maxRetryDelayMs?: number } = {}): { api: KilnExportClient, waits: number[] } {
  const waits: number[] = []
  const api = new KilnExportClient({ baseUrl: origin, ...options, sleep: async (ms) => { waits.push(ms) } })
  return { api, waits }
}

async function collect (lines: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = []
  for await (const line of lines) result.push(line)
  return result
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-client-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

describe('retries after a 503', () => {
  it('retry an export after the Retry-After the service asked for, then return its lines', async () => {
    const service = await fakeService((_request, response, attempt) => {
      if (attempt <= 2) sendBusy(response, '7')
      else sendJsonl(response, BODY)
    })
    const { api, waits } = clientFor(service.origin)
    expect(await collect(api.exportDataset('1', PARAMS))).toEqual(['{"messages": [1]}', '{"messages": [2]}', '{"messages": [3]}'])
    expect(waits).toEqual([7000, 7000])
    expect(service.requests()).toBe(3)
  })

  it('cap a long Retry-After at maxRetryDelayMs', async () => {
    const service = await fakeService((_request, response, attempt) => {
      if (attempt === 1) sendBusy(response, '3600')
      else sendJsonl(response, BODY)
    })
    const { api, waits } = clientFor(service.origin, { maxRetryDelayMs: 2500 })
    expect(await collect(api.exportDataset('1', PARAMS))).toHaveLength(3)
    expect(waits).toEqual([2500])
  })

  it('give up after `retries` tries with the last 503 as a KilnExportApiError', async () => {
    const service = await fakeService((_request, response) => { sendBusy(response, '1') })
    const { api, waits } = clientFor(service.origin, { retries: 2 })
    const err = await api.listDatasets().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KilnExportApiError)
    expect(err).toMatchObject({ status: 503, code: 'KEX_TOO_MANY_EXPORTS', retryAfterMs: 1000 })
    expect(waits).toEqual([1000, 1000])
    expect(service.requests()).toBe(3)
  })

  it('happen against the real service when MAX_CONCURRENT_EXPORTS is reached', async () => {
    const { app, origin } = await startServer({ maxConcurrentExports: 1 }, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    // Hold the only slot for as long as the client waits.
    let release: () => void = () => {}
    app.exportSlots.acquire({ raw: { once: (_event: string, listener: () => void) => { release = listener } } as unknown as ServerResponse })
    const waits: number[] = []
    const api = new KilnExportClient({ baseUrl: origin, sleep: async (ms) => { waits.push(ms); release() } })
    const lines = await collect(api.exportDataset('150621256807', PARAMS))
    expect(lines).toHaveLength(6)
    expect(waits).toEqual([5000])
  })

  it('are not made by ready(): a 503 is its answer', async () => {
    const service = await fakeService((_request, response) => { sendBusy(response, '1') })
    const { api, waits } = clientFor(service.origin)
    await expect(api.ready()).rejects.toMatchObject({ status: 503, code: 'KEX_TOO_MANY_EXPORTS' })
    expect(waits).toEqual([])
    expect(service.requests()).toBe(1)
  })

  it('are not made when retries is 0', async () => {
    const service = await fakeService((_request, response) => { sendBusy(response, '1') })
    const { api, waits } = clientFor(service.origin, { retries: 0 })
    await expect(api.listFormats()).rejects.toMatchObject({ status: 503 })
    expect(waits).toEqual([])
    expect(service.requests()).toBe(1)
  })

  it('also cover a refused connection, with exponential backoff', async () => {
    // A port nobody listens on: one the system just handed out and took back.
    const probe = createNetServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const { api, waits } = clientFor(`http://127.0.0.1:${port}`, { retries: 2 })
    await expect(api.health()).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(waits).toEqual([250, 500])
  })
})

describe('integrity checks', () => {
  it('throw ExportIntegrityError when the SHA-256 trailer does not match the bytes', async () => {
    const service = await fakeService((_request, response) => { sendJsonl(response, BODY, { sha: sha256('something else') }) })
    const { api } = clientFor(service.origin)
    const err = await collect(api.exportDataset('1', PARAMS)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ExportIntegrityError)
    expect(err).toMatchObject({ reason: 'sha256' })
  })

  it('throw ExportIntegrityError when the line-count trailer does not match', async () => {
    const service = await fakeService((_request, response) => { sendJsonl(response, BODY, { lines: '4' }) })
    const { api } = clientFor(service.origin)
    await expect(collect(api.exportDataset('1', PARAMS))).rejects.toMatchObject({ name: 'ExportIntegrityError', reason: 'line-count' })
  })

  it('fall back to X-Export-Line-Count when a proxy dropped the trailers', async () => {
    const service = await fakeService((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8', 'x-export-line-count': '4' })
      response.end(BODY)
    })
    const { api } = clientFor(service.origin)
    await expect(collect(api.exportDataset('1', PARAMS))).rejects.toMatchObject({ reason: 'line-count' })
  })

  it('accept a body without trailers whose line count matches, and say it was not verified by trailers', async () => {
    const service = await fakeService((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8', 'x-export-line-count': '3' })
      response.end(BODY)
    })
    const { api } = clientFor(service.origin)
    const download = await api.openExport('1', PARAMS)
    expect(await collect(download.lines())).toHaveLength(3)
    expect(download.summary).toMatchObject({ lines: 3, verifiedByTrailers: false, sha256: sha256(BODY) })
  })

  it('throw when the body ends in the middle of a line', async () => {
    const service = await fakeService((_request, response) => { sendJsonl(response, '{"a": 1}\n{"b"', { lines: '1' }) })
    const { api } = clientFor(service.origin)
    await expect(collect(api.exportDataset('1', PARAMS))).rejects.toMatchObject({ reason: 'incomplete-line' })
  })

  it('throw ExportIntegrityError("interrupted") on a stream cut before its end, after the lines received', async () => {
    const service = await fakeService((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8', 'x-export-line-count': '3' })
      response.write('{"messages": [1]}\n', () => { response.socket?.destroy() })
    })
    const { api, waits } = clientFor(service.origin)
    const seen: string[] = []
    const err = await (async () => { for await (const line of api.exportDataset('1', PARAMS)) seen.push(line) })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ExportIntegrityError)
    expect(err).toMatchObject({ reason: 'interrupted' })
    expect(seen).toEqual(['{"messages": [1]}'])
    // Never retried once bytes arrived: a retry could duplicate lines.
    expect(waits).toEqual([])
    expect(service.requests()).toBe(1)
  })

  it('leave neither the file nor a temp file when exportToFile gets a corrupted export', async () => {
    const service = await fakeService((_request, response) => { sendJsonl(response, BODY, { sha: '0'.repeat(64) }) })
    const { api } = clientFor(service.origin)
    const dir = await tempDir()
    await writeFile(join(dir, 'out.jsonl'), 'previous\n')
    await expect(api.exportToFile('1', PARAMS, join(dir, 'out.jsonl'))).rejects.toMatchObject({ reason: 'sha256' })
    expect(await readdir(dir)).toEqual(['out.jsonl'])
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('previous\n')
  })

  it('leave no file when exportToFile gets a cut stream', async () => {
    const service = await fakeService((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/jsonl; charset=utf-8' })
      response.write('{"messages": [1]}\n', () => { response.socket?.destroy() })
    })
    const { api } = clientFor(service.origin)
    const dir = await tempDir()
    await expect(api.exportToFile('1', PARAMS, join(dir, 'out.jsonl'))).rejects.toMatchObject({ reason: 'interrupted' })
    expect(await readdir(dir)).toEqual([])
  })

  it('report an answer that is not the API\'s JSON error with its status', async () => {
    const service = await fakeService((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' })
      response.end('<h1>Bad gateway</h1>')
    })
    const { api } = clientFor(service.origin)
    await expect(api.listDatasets()).rejects.toMatchObject({ status: 502, code: 'KEX_CLIENT_UNEXPECTED_RESPONSE', message: 'HTTP 502: <h1>Bad gateway</h1>' })
  })
})

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('5', now)).toBe(5000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })
})
