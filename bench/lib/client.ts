/**
 * The benchmark client: one undici request, the body read as it arrives, bytes and lines counted.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { Agent, request, type Dispatcher } from 'undici'

/** One dispatcher for the whole run: enough connections for the concurrency scenario, no timeouts. */
export const agent = new Agent({ connections: 64, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 10_000 })

export interface Transfer {
  readonly status: number
  readonly bytes: number
  readonly lines: number
  /** Request start to response headers (the server answers only once the whole export is checked). */
  readonly ttfbMs: number
  /** Request start to the last body byte. */
  readonly totalMs: number
  /** The server's X-Export-Line-Count, when sent. */
  readonly declaredLines: number | undefined
}

export interface TransferOptions {
  /** Also write the body to this file (to feed the ceiling server the very same bytes). */
  readonly saveTo?: string
}

function countNewlines (chunk: Buffer): number {
  let count = 0
  let at = chunk.indexOf(10)
  while (at !== -1) {
    count++
    at = chunk.indexOf(10, at + 1)
  }
  return count
}

/** POST `body` (JSON) to `url` and read the whole response. Fails on a non-200 status. */
export async function post (url: string, body: string | Buffer, options: TransferOptions = {}): Promise<Transfer> {
  const started = performance.now()
  const response = await request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    dispatcher: agent
  })
  const ttfbMs = performance.now() - started
  const out = options.saveTo === undefined ? undefined : createWriteStream(options.saveTo)
  let bytes = 0
  let lines = 0
  if (response.statusCode !== 200) {
    const text = await response.body.text()
    throw new Error(`POST ${url}: HTTP ${response.statusCode}: ${text.slice(0, 2000)}`)
  }
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length
    lines += countNewlines(chunk)
    if (out !== undefined && !out.write(chunk)) await once(out, 'drain')
  }
  const totalMs = performance.now() - started
  if (out !== undefined) {
    out.end()
    await once(out, 'finish')
  }
  const declared = response.headers['x-export-line-count']
  return {
    status: response.statusCode,
    bytes,
    lines,
    ttfbMs,
    totalMs,
    declaredLines: typeof declared === 'string' ? Number(declared) : undefined
  }
}

/** GET a JSON document. */
export async function getJson (url: string): Promise<unknown> {
  const response = await request(url, { dispatcher: agent })
  if (response.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${response.statusCode}`)
  return response.body.json()
}

/** A job as `GET /exports/{id}` and `POST /exports` answer it (the fields the bench reads). */
export interface JobAnswer {
  readonly id?: unknown
  readonly state?: unknown
  readonly links?: { readonly file?: unknown } | null
  /** A done job's result: its manifest's SHA-256, bytes and lines. */
  readonly result?: { readonly sha256?: unknown, readonly bytes?: unknown, readonly lines?: unknown } | null
}

/**
 * Send a JSON request and read the answer whatever its status: the body's text, and its JSON when
 * it parses. `dispatcher`: the shared agent, or another (the proxy scenario's, one connection a request).
 */
export async function requestJson (method: 'GET' | 'POST', url: string, body?: unknown, dispatcher: Dispatcher = agent): Promise<{ status: number, json: JobAnswer | undefined, text: string }> {
  const response = await request(url, {
    method,
    dispatcher,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  })
  const text = await response.body.text()
  let json: JobAnswer | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    json = typeof parsed === 'object' && parsed !== null ? parsed as JobAnswer : undefined
  } catch {
    json = undefined
  }
  return { status: response.statusCode, json, text }
}
