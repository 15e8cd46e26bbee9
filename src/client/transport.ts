import { setTimeout as delay } from 'node:timers/promises'
import { request, type Dispatcher } from 'undici'
import { KilnExportApiError, apiError } from './errors.js'
import { header, parseRetryAfter } from './headers.js'
import type { CallOptions, KilnExportClientOptions } from './types.js'

/** Connection failures before any response: safe to retry, the request had no effect yet. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

function isRetryableNetworkError (err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ('code' in e && typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return true
  }
  return false
}

export type ResponseData = Dispatcher.ResponseData

/** Requests to one service: its base URL and headers, retries of 503s and of connection failures. */
export class Transport {
  private readonly base: URL
  private readonly headers: Record<string, string>
  private readonly retries: number
  private readonly maxRetryDelayMs: number
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  private readonly dispatcher: Dispatcher | undefined

  constructor (options: KilnExportClientOptions) {
    const base = new URL(String(options.baseUrl))
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`baseUrl must be an http(s) URL, not ${base.protocol}`)
    if (!base.pathname.endsWith('/')) base.pathname += '/'
    base.search = ''
    base.hash = ''
    this.base = base
    this.headers = { ...options.headers }
    if (options.token !== undefined) this.headers.authorization = `Bearer ${options.token}`
    this.retries = Math.max(0, Math.floor(options.retries ?? 3))
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000
    this.sleep = options.sleep ?? (async (ms, signal) => { await delay(ms, undefined, { signal }) })
    this.dispatcher = options.dispatcher
  }

  async getJson<T> (path: string, options: CallOptions): Promise<T> {
    return await this.readJson<T>(await this.send('GET', path, undefined, options), path)
  }

  /** The JSON body of a 200, or the API's error. */
  async readJson<T> (response: ResponseData, path: string): Promise<T> {
    if (response.statusCode !== 200) throw await apiError(response)
    const text = await response.body.text()
    try {
      return JSON.parse(text) as T
    } catch {
      throw new KilnExportApiError(response.statusCode, { message: `Expected JSON from ${path}, got: ${text.slice(0, 200)}` }, response.headers)
    }
  }

  /** Send a request, retrying 503 answers and connection failures before any response. */
  async send (method: 'GET' | 'POST' | 'DELETE', path: string, body: string | undefined, options: CallOptions, accept?: string, retries = this.retries, extra: Readonly<Record<string, string>> = {}): Promise<ResponseData> {
    const headers: Record<string, string> = { accept: accept ?? (method === 'POST' ? 'application/jsonl, application/json' : 'application/json'), ...this.headers, ...extra }
    if (body !== undefined) headers['content-type'] = 'application/json'
    for (let attempt = 0; ; attempt++) {
      let response: ResponseData
      try {
        response = await request(new URL(path, this.base), {
          method,
          headers,
          body,
          signal: options.signal,
          ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher })
        })
      } catch (err) {
        if (attempt < retries && options.signal?.aborted !== true && isRetryableNetworkError(err)) {
          await this.sleep(this.retryDelay(undefined, attempt), options.signal)
          continue
        }
        throw err
      }
      if (response.statusCode === 503 && attempt < retries) {
        const wait = this.retryDelay(parseRetryAfter(header(response.headers, 'retry-after')), attempt)
        await response.body.dump()
        await this.sleep(wait, options.signal)
        continue
      }
      return response
    }
  }

  /** The wait before try `attempt + 1`: Retry-After when given (capped), else exponential backoff. */
  private retryDelay (retryAfterMs: number | undefined, attempt: number): number {
    const backoff = 250 * 2 ** attempt
    return Math.min(retryAfterMs ?? backoff, this.maxRetryDelayMs)
  }
}
