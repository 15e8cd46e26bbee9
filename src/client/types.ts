import type { Dispatcher } from 'undici'
import type { DataStrategy } from '../format/index.js'
import type { ErrorWithReport } from '../http/schemas/error-response.js'
import type { ExportRequest } from '../http/schemas/export-request.js'
import type { FormatInfo } from '../http/schemas/format-info.js'
import type { ValidateRequest } from '../http/schemas/validate-request.js'
import type { CreateExportRequest, ExportJobBody } from '../http/schemas/exports.js'
import type { DatasetSummary, SplitSummary } from '../source/types.js'
import type { ValidationReport } from '../validate/index.js'

/*
 * The client's request and response types. They are the service's own (the TypeBox schemas that
 * also generate openapi/openapi.json), imported as types only: the client's build pulls in no
 * server code.
 */

/** The body of `POST /datasets/{id}/export`: the export parameters, plus the Kiln objects for an inline export. */
export type ExportRequestBody = ExportRequest
/** The body of `POST /datasets/{id}/validate`: the export parameters (split_name optional) plus the profile and cost options. */
export type ValidateRequestBody = ValidateRequest
/** @deprecated Use ExportRequestBody (renamed: the core's ExportParams is a different thing). */
export type ExportParams = ExportRequestBody
/** @deprecated Use ValidateRequestBody. */
export type ValidateParams = ValidateRequestBody
/** The body of `POST /exports` without `dataset_id` (createExport takes it apart): the export route's body. */
export type CreateExportBody = Omit<CreateExportRequest, 'dataset_id'>
/** An export job, as `GET /exports/{id}` answers it. */
export type ExportJob = ExportJobBody
/** The JSON body of every error answer (`report`: a strict export refused by its validation report). */
export type ApiErrorBody = ErrorWithReport
export type { DatasetSummary, SplitSummary, DataStrategy, ValidationReport }

export type { FormatInfo }

/** The API operations the client calls, as the OpenAPI document names them. */
export const CLIENT_OPERATIONS = {
  listDatasets: { method: 'GET', path: '/datasets' },
  getDataset: { method: 'GET', path: '/datasets/{id}' },
  exportDataset: { method: 'POST', path: '/datasets/{id}/export' },
  validateDataset: { method: 'POST', path: '/datasets/{id}/validate' },
  listFormats: { method: 'GET', path: '/formats' },
  health: { method: 'GET', path: '/health' },
  ready: { method: 'GET', path: '/ready' },
  createExport: { method: 'POST', path: '/exports' },
  getExport: { method: 'GET', path: '/exports/{id}' },
  downloadExport: { method: 'GET', path: '/exports/{id}/file' },
  deleteExport: { method: 'DELETE', path: '/exports/{id}' }
} as const

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
  /** Preference formats: the runs that make no pair, from X-Export-Skipped-Run-Count (undefined for the others). */
  readonly skippedRuns: number | undefined
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

/** Options of waitForExport. */
export interface WaitForExportOptions extends CallOptions {
  /** Hears each status polled (state and progress). */
  readonly onProgress?: (job: ExportJob) => void
  /** Time between two polls (ms). Default 1000. */
  readonly intervalMs?: number
}

/** What downloadExport wrote. */
export interface ExportJobFileResult {
  /** The file written (absolute). */
  readonly path: string
  readonly bytes: number
  readonly lines: number
  /** Hex SHA-256, checked against the job's. */
  readonly sha256: string
  readonly fileName: string
  /** Bytes already on disk from an earlier, broken download that were kept (0: downloaded whole). */
  readonly resumedFrom: number
}
