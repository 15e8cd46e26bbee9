import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { parse as parseContentDisposition } from 'content-disposition'
import { request, type Dispatcher } from 'undici'
import { countLines } from '../export/line-encoder.js'
import { type DataStrategy } from '../format/index.js'
import { type ErrorWithReport } from '../http/schemas/error-response.js'
import { type ExportRequest } from '../http/schemas/export-request.js'
import { type ValidateRequest } from '../http/schemas/validate-request.js'
import { type DatasetSummary, type SplitSummary } from '../source/types.js'
import { type ValidationReport } from '../validate/index.js'
import { writeFileAtomically } from '../write-file-atomically.js'

/*
 * A typed client for the kiln-export HTTP API (`kiln-export/client`). The request and response
 * types are the service's own: the TypeBox schemas that also generate openapi/openapi.json
 * (test/client/openapi-contract.test.ts checks the client against that document).
 */

/** The body of `POST /datasets/{id}/export`: the export parameters, plus the Kiln objects for an inline export. */
export type ExportParams = ExportRequest
/** The body of `POST /datasets/{id}/validate`: the export parameters (split_name optional) plus the profile and cost options. */
export type ValidateParams = ValidateRequest
/** The JSON body of every error answer (`report`: a strict export refused by its validation report). */
export type ApiErrorBody = ErrorWithReport
export type { DatasetSummary, SplitSummary, DataStrategy, ValidationReport }

/** One entry of `GET /formats`. */
export interface FormatInfo {
  /** The value of `format` in an export request. */
  readonly name: string
  /** For a later Kiln name of a format, the format it stands for. */
  readonly alias_of?: string
  readonly description: string
  readonly data_strategies: DataStrategy[]
  /** True when the final output must be valid JSON. */
  readonly parses_output: boolean
}

/** The API operations the client calls, as the OpenAPI document names them. */
export const CLIENT_OPERATIONS = {
  listDatasets: { method: 'GET', path: '/datasets' },
  getDataset: { method: 'GET', path: '/datasets/{id}' },
  exportDataset: { method: 'POST', path: '/datasets/{id}/export' },
  validateDataset: { method: 'POST', path: '/datasets/{id}/validate' },
  listFormats: { method: 'GET', path: '/formats' },
  health: { method: 'GET', path: '/health' },
  ready: { method: 'GET', path: '/ready' }
} as const

/** Trailer with the number of lines the server sent. */
const LINES_TRAILER = 'x-export-lines'
/** Trailer with the hex SHA-256 of the body the server sent. */
const SHA256_TRAILER = 'x-export-sha256'

/** An error answer of the API (any non-2xx status), with its code, Kiln's message and the offending runs. */
export class KilnExportApiError extends Error {
  override readonly name = 'KilnExportApiError'
  /** The HTTP status. */
  readonly status: number
  /** The API's `KEX_` code, or `KEX_CLIENT_UNEXPECTED_RESPONSE` when the answer was not the API's JSON. */
  readonly code: string
  /** Every offending task-run id (data errors). */
  readonly runIds: readonly string[]
  /** Per-run details, in split order (data errors). */
  readonly problems: ReadonlyArray<{ readonly run_id: string, readonly code: string, readonly message: string }>
  /** The server's `x-request-id`, to find the request in its logs. */
  readonly requestId: string | undefined
  /** Milliseconds the server asked to wait (`Retry-After`), for a 503. */
  readonly retryAfterMs: number | undefined
  /** The validation report of an export refused by `validate: 'strict'` (`KEX_VALIDATION_REPORT_ERRORS`). */
  readonly report: ValidationReport | undefined

  constructor (status: number, body: Partial<ApiErrorBody> & { message: string }, headers: Readonly<Record<string, string | string[] | undefined>> = {}) {
    super(body.message)
    this.status = status
    this.code = body.code ?? 'KEX_CLIENT_UNEXPECTED_RESPONSE'
    this.runIds = body.run_ids ?? []
    this.problems = body.problems ?? []
    this.requestId = header(headers, 'x-request-id')
    this.retryAfterMs = parseRetryAfter(header(headers, 'retry-after'))
    this.report = body.report
  }
}

/** Why an export's bytes cannot be trusted. */
export type IntegrityFailure =
  /** The connection broke before the end of the body (the server cut it, or the network did). */
  | 'interrupted'
  /** The number of lines differs from the `X-Export-Lines` trailer (or `X-Export-Line-Count`). */
  | 'line-count'
  /** The SHA-256 of the bytes received differs from the `X-Export-SHA256` trailer. */
  | 'sha256'
  /** The body does not end with a newline: its last line is incomplete. */
  | 'incomplete-line'
  /** The body is not valid UTF-8. */
  | 'invalid-utf8'

/** The export that arrived is not the one the server sent: never use its lines. */
export class ExportIntegrityError extends Error {
  override readonly name = 'ExportIntegrityError'

  constructor (readonly reason: IntegrityFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Options of a KilnExportClient. */
export interface KilnExportClientOptions {
  /** The service's origin (and path prefix, if any), e.g. `http://127.0.0.1:3000`. */
  readonly baseUrl: string | URL
  /** The service's API_TOKEN, sent as `Authorization: Bearer <token>`. */
  readonly token?: string
  /**
   * How many times a request is retried after a 503 (honouring Retry-After) or a connection
   * failure before any response. Exports are retried only before any byte of the body arrived.
   * Default 3.
   */
  readonly retries?: number
  /** The longest wait between two tries, whatever Retry-After says (ms). Default 30,000. */
  readonly maxRetryDelayMs?: number
  /** How the client waits between tries (injectable for tests). Default: a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The undici dispatcher (Agent, Pool, MockAgent, ...). Default: undici's global dispatcher. */
  readonly dispatcher?: Dispatcher
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>
}

/** Per-call options. */
export interface CallOptions {
  /** Abort the request (and an export's body) with this signal. */
  readonly signal?: AbortSignal
}

/** Per-call options of an export. */
export interface ExportOptions extends CallOptions {
  /**
   * `strict`: the service validates the split first and refuses it (KilnExportApiError 422
   * `KEX_VALIDATION_REPORT_ERRORS`, with `report`) when its validation report has errors.
   */
  readonly validate?: 'strict'
}

/** What a finished, verified export was. */
export interface ExportSummary {
  /** Lines received (each ended by `\n`). */
  readonly lines: number
  /** Bytes received. */
  readonly bytes: number
  /** Hex SHA-256 of the bytes received. */
  readonly sha256: string
  /** True when the server's trailers were there and matched (false: no trailers came, e.g. a proxy dropped them). */
  readonly verifiedByTrailers: boolean
}

/** An export whose status was 200: its headers, and a body that is verified as it is read. */
export interface ExportDownload {
  /** Kiln's file name, from Content-Disposition. */
  readonly fileName: string | undefined
  /** The number of lines the server announced (X-Export-Line-Count). */
  readonly announcedLines: number | undefined
  readonly requestId: string | undefined
  /**
   * The raw body. Iterate it once; at its end the line count and SHA-256 are checked against the
   * trailers (ExportIntegrityError on a mismatch or a cut stream). Breaking out early closes it.
   */
  readonly chunks: AsyncIterable<Uint8Array>
  /** The lines of the body (split on `\n` only: U+2028 and U+2029 are data), verified like `chunks`. */
  lines (): AsyncIterable<string>
  /** Set once `chunks` (or `lines()`) was read to its verified end. */
  readonly summary: ExportSummary | undefined
  /** Abandon the body without reading it (closes the connection). */
  cancel (): void
}

/** What exportToFile wrote. */
export interface ExportFileResult extends ExportSummary {
  /** The file written (absolute). */
  readonly path: string
  readonly fileName: string | undefined
}

function header (headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Connection failures before any response: safe to retry, the request had no effect yet. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

function isRetryableNetworkError (err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ('code' in e && typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return true
  }
  return false
}

type ResponseData = Dispatcher.ResponseData

/** Read an error answer: the API's JSON error, or a generic one naming the status. */
async function apiError (response: ResponseData): Promise<KilnExportApiError> {
  const text = await response.body.text().catch(() => '')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (typeof body === 'object' && body !== null && 'code' in body && 'message' in body &&
      typeof body.code === 'string' && typeof body.message === 'string') {
    return new KilnExportApiError(response.statusCode, body as ApiErrorBody, response.headers)
  }
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text
  return new KilnExportApiError(response.statusCode, { message: `HTTP ${response.statusCode}${excerpt === '' ? '' : `: ${excerpt}`}` }, response.headers)
}

/** Split verified chunks into lines on `\n` only, decoding strict UTF-8 (a BOM is kept as data). */
async function * splitLines (chunks: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true })
    } catch (err) {
      throw new ExportIntegrityError('invalid-utf8', 'The export is not valid UTF-8', { cause: err })
    }
  }
  let rest = ''
  for await (const chunk of chunks) {
    const lines = (rest + decode(chunk)).split('\n')
    rest = lines.pop() ?? ''
    yield * lines
  }
  rest += decode()
  // Unreachable after verification (an incomplete last line is refused there), kept for safety.
  if (rest !== '') throw new ExportIntegrityError('incomplete-line', 'The export ends in the middle of a line')
}

/** Wrap a 200 export response: the body is hashed and counted as it is read, and checked at its end. */
function download (response: ResponseData): ExportDownload {
  const disposition = header(response.headers, 'content-disposition')
  let fileName: string | undefined
  if (disposition !== undefined) {
    try {
      fileName = parseContentDisposition(disposition).parameters.filename
    } catch {
      fileName = undefined
    }
  }
  const announced = header(response.headers, 'x-export-line-count')
  const announcedLines = announced !== undefined && /^\d+$/.test(announced) ? Number(announced) : undefined
  let summary: ExportSummary | undefined
  let consumed = false

  async function * verified (): AsyncIterable<Uint8Array> {
    if (consumed) throw new Error('An export body can be read only once')
    consumed = true
    const hash = createHash('sha256')
    let lines = 0
    let bytes = 0
    let last = 10
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    let finished = false
    try {
      while (true) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await iterator.next()
        } catch (err) {
          throw new ExportIntegrityError('interrupted', `The export was cut after ${bytes} bytes (${lines} lines): the connection closed before the end of the body`, { cause: err })
        }
        if (next.done === true) break
        const chunk = next.value
        hash.update(chunk)
        lines += countLines(chunk)
        bytes += chunk.length
        if (chunk.length > 0) last = chunk[chunk.length - 1] ?? last
        yield chunk
      }
      finished = true
    } finally {
      // The consumer stopped early (or failed): close the connection rather than read the rest.
      if (!finished) response.body.destroy()
    }
    const sha256 = hash.digest('hex')
    const trailers = response.trailers as Record<string, string | undefined>
    const sentLines = trailers[LINES_TRAILER]
    const sentSha = trailers[SHA256_TRAILER]
    if (sentSha !== undefined && sentSha.toLowerCase() !== sha256) {
      throw new ExportIntegrityError('sha256', `The export's SHA-256 is ${sha256}, the server sent ${sentSha}`)
    }
    const expectedLines = sentLines ?? (announcedLines === undefined ? undefined : String(announcedLines))
    if (expectedLines !== undefined && expectedLines !== String(lines)) {
      throw new ExportIntegrityError('line-count', `The export has ${lines} lines, the server ${sentLines === undefined ? 'announced' : 'sent'} ${expectedLines}`)
    }
    if (last !== 10) throw new ExportIntegrityError('incomplete-line', 'The export ends in the middle of a line')
    summary = { lines, bytes, sha256, verifiedByTrailers: sentLines !== undefined && sentSha !== undefined }
  }

  const chunks = verified()
  return {
    fileName,
    announcedLines,
    requestId: header(response.headers, 'x-request-id'),
    chunks,
    lines: () => splitLines(chunks),
    get summary () { return summary },
    cancel: () => { response.body.destroy() }
  }
}

/**
 * A client of the kiln-export HTTP API, on undici.
 *
 * ```ts
 * const client = new KilnExportClient({ baseUrl: 'http://127.0.0.1:3000', token: process.env.KILN_EXPORT_TOKEN })
 * for await (const line of client.exportDataset('150621256807', { split_name: 'train', format: 'openai_chat_jsonl', system_message: '' })) {
 *   console.log(JSON.parse(line))
 * }
 * await client.exportToFile('150621256807', params, 'train.jsonl')
 * ```
 */
export class KilnExportClient {
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

  /** Every dataset split of the mounted Kiln projects. */
  async listDatasets (options: CallOptions = {}): Promise<DatasetSummary[]> {
    const body = await this.getJson<{ datasets: DatasetSummary[] }>('datasets', options)
    return body.datasets
  }

  /** One dataset split of the mounted projects (KilnExportApiError 404 `KEX_DATASET_NOT_FOUND` when unknown). */
  async getDataset (id: string, options: CallOptions = {}): Promise<DatasetSummary> {
    return this.getJson<DatasetSummary>(`datasets/${encodeURIComponent(id)}`, options)
  }

  /** The export formats and the data strategies each accepts. */
  async listFormats (options: CallOptions = {}): Promise<FormatInfo[]> {
    const body = await this.getJson<{ formats: FormatInfo[] }>('formats', options)
    return body.formats
  }

  /** `GET /health`: resolves while the service is up. */
  async health (options: CallOptions = {}): Promise<{ status: 'ok' }> {
    return this.getJson<{ status: 'ok' }>('health', options)
  }

  /**
   * `GET /ready`: resolves when the service takes new work; a KilnExportApiError 503
   * (`KEX_OVERLOADED`, `KEX_SHUTTING_DOWN`) when it does not. Asked once, never retried.
   */
  async ready (options: CallOptions = {}): Promise<{ status: 'ready' }> {
    return await this.readJson<{ status: 'ready' }>(await this.send('GET', 'ready', undefined, options, undefined, 0), 'ready')
  }

  /**
   * Start an export and answer once its status is known: a KilnExportApiError for a refused export
   * (4xx/5xx, with Kiln's message and the run ids), otherwise the download, verified as it is read.
   * A 503 before any byte is retried (Retry-After); nothing is retried once the body has started.
   */
  async openExport (id: string, params: ExportParams, options: ExportOptions = {}): Promise<ExportDownload> {
    const query = options.validate === undefined ? '' : `?validate=${options.validate}`
    const response = await this.send('POST', `datasets/${encodeURIComponent(id)}/export${query}`, JSON.stringify(params), options)
    if (response.statusCode !== 200) throw await apiError(response)
    const type = header(response.headers, 'content-type') ?? ''
    if (!/^application\/jsonl\b/i.test(type)) {
      response.body.destroy()
      throw new KilnExportApiError(response.statusCode, { message: `Expected application/jsonl, got ${type === '' ? 'no content type' : type}` }, response.headers)
    }
    return download(response)
  }

  /**
   * The lines of an export (without their `\n`), in split order. The request starts on the first
   * iteration; errors (refused export, integrity failure, cut stream) are thrown from the loop.
   */
  async * exportDataset (id: string, params: ExportParams, options: ExportOptions = {}): AsyncIterable<string> {
    const exported = await this.openExport(id, params, options)
    yield * exported.lines()
  }

  /**
   * Export into `path`: the bytes go to a temp file in the same folder, which is flushed, verified
   * (trailers) and only then renamed over `path`. On any failure `path` is left as it was.
   */
  async exportToFile (id: string, params: ExportParams, path: string, options: ExportOptions = {}): Promise<ExportFileResult> {
    const target = resolve(path)
    const exported = await this.openExport(id, params, options)
    const verified = (): ExportSummary => {
      const summary = exported.summary
      if (summary === undefined) throw new Error('The export was not verified')
      return summary
    }
    try {
      await writeFileAtomically(target, exported.chunks, { beforeRename: verified })
    } catch (err) {
      exported.cancel()
      throw err
    }
    return { ...verified(), path: target, fileName: exported.fileName }
  }

  /**
   * The validation report of one split (or every split when `split_name` is left out): problems,
   * the provider profile's rules, token counts and the estimated training cost. Data problems are
   * in the report (its `status` is `errors`), not thrown; request errors throw KilnExportApiError.
   */
  async validateDataset (id: string, params: ValidateParams, options: CallOptions = {}): Promise<ValidationReport> {
    const response = await this.send('POST', `datasets/${encodeURIComponent(id)}/validate`, JSON.stringify(params), options, 'application/json')
    return await this.readJson<ValidationReport>(response, 'validate')
  }

  private url (path: string): URL {
    return new URL(path, this.base)
  }

  private async getJson<T> (path: string, options: CallOptions): Promise<T> {
    return await this.readJson<T>(await this.send('GET', path, undefined, options), path)
  }

  private async readJson<T> (response: ResponseData, path: string): Promise<T> {
    if (response.statusCode !== 200) throw await apiError(response)
    const text = await response.body.text()
    try {
      return JSON.parse(text) as T
    } catch {
      throw new KilnExportApiError(response.statusCode, { message: `Expected JSON from ${path}, got: ${text.slice(0, 200)}` }, response.headers)
    }
  }

  /** The wait before try `attempt + 1`: Retry-After when given (capped), else exponential backoff. */
  private retryDelay (retryAfterMs: number | undefined, attempt: number): number {
    const backoff = 250 * 2 ** attempt
    return Math.min(retryAfterMs ?? backoff, this.maxRetryDelayMs)
  }

  /** Send a request, retrying 503 answers and connection failures before any response. */
  private async send (method: 'GET' | 'POST', path: string, body: string | undefined, options: CallOptions, accept?: string, retries = this.retries): Promise<ResponseData> {
    const headers: Record<string, string> = { accept: accept ?? (method === 'POST' ? 'application/jsonl, application/json' : 'application/json'), ...this.headers }
    if (body !== undefined) headers['content-type'] = 'application/json'
    for (let attempt = 0; ; attempt++) {
      let response: ResponseData
      try {
        response = await request(this.url(path), {
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
}
