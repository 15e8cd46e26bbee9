import type { Dispatcher } from 'undici'
import { header, parseRetryAfter, type Headers } from './headers.js'
import type { ApiErrorBody, ValidationReport } from './types.js'

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

  constructor (status: number, body: Partial<ApiErrorBody> & { message: string }, headers: Headers = {}) {
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

/** Read an error answer: the API's JSON error, or a generic one naming the status. */
export async function apiError (response: Dispatcher.ResponseData): Promise<KilnExportApiError> {
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
