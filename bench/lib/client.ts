/**
 * The benchmark client: one undici request, the body read as it arrives, bytes and lines counted.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { Agent, request } from 'undici'

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
