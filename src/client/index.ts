import { resolve } from 'node:path'
import { writeFileAtomically } from '../jsonl/write-file-atomically.js'
import { setTimeout as delay } from 'node:timers/promises'
import { download } from './download.js'
import { downloadJobFile } from './job-download.js'
import { KilnExportApiError, apiError } from './errors.js'
import { header } from './headers.js'
import { Transport } from './transport.js'
import {
  type CallOptions,
  type CreateExportBody,
  type ExportJob,
  type ExportJobFileResult,
  type WaitForExportOptions,
  type DatasetSummary,
  type ExportDownload,
  type ExportFileResult,
  type ExportOptions,
  type ExportRequestBody,
  type ExportSummary,
  type FormatInfo,
  type KilnExportClientOptions,
  type ValidateRequestBody,
  type ValidationReport
} from './types.js'

/*
 * A typed client for the kiln-export HTTP API (`kiln-export/client`). The request and response
 * types are the service's own: the TypeBox schemas that also generate openapi/openapi.json
 * (test/client/openapi-contract.test.ts checks the client against that document).
 * types.ts: the request, response and option types; errors.ts: what calls throw; transport.ts:
 * requests and retries; download.ts: an export's body, verified as it is read.
 */

export { ExportIntegrityError, KilnExportApiError, type IntegrityFailure } from './errors.js'
export { parseRetryAfter } from './headers.js'
export * from './types.js'

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
  private readonly transport: Transport

  constructor (options: KilnExportClientOptions) {
    this.transport = new Transport(options)
  }

  /** Every dataset split of the mounted Kiln projects. */
  async listDatasets (options: CallOptions = {}): Promise<DatasetSummary[]> {
    const body = await this.transport.getJson<{ datasets: DatasetSummary[] }>('datasets', options)
    return body.datasets
  }

  /** One dataset split of the mounted projects (KilnExportApiError 404 `KEX_DATASET_NOT_FOUND` when unknown). */
  async getDataset (id: string, options: CallOptions = {}): Promise<DatasetSummary> {
    return this.transport.getJson<DatasetSummary>(`datasets/${encodeURIComponent(id)}`, options)
  }

  /** The export formats and the data strategies each accepts. */
  async listFormats (options: CallOptions = {}): Promise<FormatInfo[]> {
    const body = await this.transport.getJson<{ formats: FormatInfo[] }>('formats', options)
    return body.formats
  }

  /** `GET /health`: resolves while the service is up. */
  async health (options: CallOptions = {}): Promise<{ status: 'ok' }> {
    return this.transport.getJson<{ status: 'ok' }>('health', options)
  }

  /**
   * `GET /ready`: resolves when the service takes new work; a KilnExportApiError 503
   * (`KEX_OVERLOADED`, `KEX_SHUTTING_DOWN`) when it does not. Asked once, never retried.
   */
  async ready (options: CallOptions = {}): Promise<{ status: 'ready' }> {
    return await this.transport.readJson<{ status: 'ready' }>(await this.transport.send('GET', 'ready', undefined, options, undefined, 0), 'ready')
  }

  /**
   * Start an export and answer once its status is known: a KilnExportApiError for a refused export
   * (4xx/5xx, with Kiln's message and the run ids), otherwise the download, verified as it is read.
   * A 503 before any byte is retried (Retry-After); nothing is retried once the body has started.
   */
  async openExport (id: string, params: ExportRequestBody, options: ExportOptions = {}): Promise<ExportDownload> {
    const query = options.validate === undefined ? '' : `?validate=${options.validate}`
    const response = await this.transport.send('POST', `datasets/${encodeURIComponent(id)}/export${query}`, JSON.stringify(params), options)
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
  async * exportDataset (id: string, params: ExportRequestBody, options: ExportOptions = {}): AsyncIterable<string> {
    const exported = await this.openExport(id, params, options)
    yield * exported.lines()
  }

  /**
   * Export into `path`: the bytes go to a temp file in the same folder, which is flushed, verified
   * (trailers) and only then renamed over `path`. On any failure `path` is left as it was.
   */
  async exportToFile (id: string, params: ExportRequestBody, path: string, options: ExportOptions = {}): Promise<ExportFileResult> {
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
  async validateDataset (id: string, params: ValidateRequestBody, options: CallOptions = {}): Promise<ValidationReport> {
    const response = await this.transport.send('POST', `datasets/${encodeURIComponent(id)}/validate`, JSON.stringify(params), options, 'application/json')
    return await this.transport.readJson<ValidationReport>(response, 'validate')
  }

  /**
   * `POST /exports`: start an export job (the export route's work, written to the result store).
   * The same request over the same data answers the same job, so calling this again is safe.
   */
  async createExport (datasetId: string, body: CreateExportBody, options: CallOptions = {}): Promise<ExportJob> {
    const response = await this.transport.send('POST', 'exports', JSON.stringify({ dataset_id: datasetId, ...body }), options, 'application/json')
    if (response.statusCode !== 200 && response.statusCode !== 202) throw await apiError(response)
    return await this.transport.readJson<ExportJob>({ ...response, statusCode: 200 }, 'exports')
  }

  /** `GET /exports/{id}`: a job's state and progress (KilnExportApiError 404 `KEX_EXPORT_JOB_NOT_FOUND`). */
  async getExport (id: string, options: CallOptions = {}): Promise<ExportJob> {
    return await this.transport.getJson<ExportJob>(`exports/${encodeURIComponent(id)}`, options)
  }

  /**
   * Poll a job until it is done (answered) or failed or cancelled (a KilnExportApiError: the
   * export route's error body for a failure, `KEX_CLIENT_EXPORT_CANCELLED` for a cancelled job).
   */
  async waitForExport (id: string, options: WaitForExportOptions = {}): Promise<ExportJob> {
    for (;;) {
      const job = await this.getExport(id, options)
      options.onProgress?.(job)
      if (job.state === 'done') return job
      if (job.state === 'failed') {
        const error = job.error ?? { statusCode: 500, error: 'Internal Server Error', code: 'KEX_EXPORT_JOB_FAILED', message: `Export job ${id} failed` }
        throw new KilnExportApiError(error.statusCode, error)
      }
      if (job.state === 'cancelled') throw new KilnExportApiError(409, { code: 'KEX_CLIENT_EXPORT_CANCELLED', message: `Export job ${id} was cancelled` })
      await delay(options.intervalMs ?? 1000, undefined, { signal: options.signal })
    }
  }

  /**
   * Download a done job's JSONL into `path`, via `<path>.partial`: a broken download is resumed
   * from there by the next call (Range), and the whole file's SHA-256 is checked before the rename.
   */
  async downloadExport (id: string, path: string, options: CallOptions = {}): Promise<ExportJobFileResult> {
    const job = await this.getExport(id, options)
    return await downloadJobFile(this.transport, job, resolve(path), options)
  }

  /** `DELETE /exports/{id}`: cancel a queued or running job (answers it), or delete a finished one and its result (undefined). */
  async deleteExport (id: string, options: CallOptions = {}): Promise<ExportJob | undefined> {
    const response = await this.transport.send('DELETE', `exports/${encodeURIComponent(id)}`, undefined, options, 'application/json')
    if (response.statusCode === 204) {
      await response.body.dump()
      return undefined
    }
    return await this.transport.readJson<ExportJob>(response, 'exports')
  }
}
