import { createHash } from 'node:crypto'
import { SourceChangedError } from '../errors.js'
import { prepareExport, type ExportTuning } from '../export/prepare-export.js'
import { exportParams } from '../export/request-params.js'
import { countLines } from '../jsonl/count-lines.js'
import { toErrorBody } from '../http/error-body.js'
import { resolveSource } from '../http/resolve-source.js'
import { type ErrorWithReport } from '../http/schemas/error-response.js'
import { type DatasetCatalog } from '../source/types.js'
import { sourceDigest } from './job-id.js'
import { type ResultManifest, type ResultStore } from './store/types.js'
import { type ExportJobProgress, type JobInput, type JobReporter } from './types.js'
import { SERVICE_VERSION } from './version.js'

/*
 * One export job's work: the export route's code path (resolveSource, prepareExport, the chunks)
 * with the bytes going to a ResultWriter instead of a socket. Every data error is found before the
 * first byte, as on the route, and ends the job with the route's JSON error body (JobDataError,
 * never retried). Anything else (a file that cannot be read for want of handles, a full disk, a
 * bucket that does not answer) is thrown as it is, for the engine to retry.
 */

/** What a job needs besides its input. */
export interface JobRunnerDeps {
  /** The mounted Kiln projects (mounted exports). */
  readonly catalog?: DatasetCatalog
  readonly store: ResultStore
  readonly tuning?: ExportTuning
  /** Least time between two progress reports (ms). Default 250. */
  readonly progressIntervalMs?: number
}

/** The data was refused: the job fails with the body the export route would have answered; never retried. */
export class JobDataError extends Error {
  override readonly name = 'JobDataError'

  constructor (readonly body: ErrorWithReport) {
    super(body.message)
  }
}

/** True for an error the export route answers with a 4xx: a property of the data, the same on every try. */
function dataErrorBody (err: unknown): ErrorWithReport | undefined {
  if (err instanceof JobDataError) return err.body
  const body = toErrorBody(err, 0)
  return body.statusCode < 500 ? body : undefined
}

/** Run one job to a committed result; throws JobDataError for refused data, the error itself otherwise. */
export async function runExportJob (input: JobInput, deps: JobRunnerDeps, reporter: JobReporter, signal: AbortSignal): Promise<ResultManifest> {
  const { request } = input
  let progress: ExportJobProgress = { runs_checked: 0, runs_total: 0, lines_written: 0, bytes_written: 0 }
  const interval = deps.progressIntervalMs ?? 250
  let reported = 0
  const report = (next: ExportJobProgress, force = false): void => {
    progress = next
    const now = performance.now()
    if (!force && now - reported < interval) return
    reported = now
    reporter.progress(progress)
  }
  try {
    reporter.phase('checking')
    const source = await resolveSource(request.dataset_id, request, deps.catalog)
    // The id promised this content: an export of other data under it would be a lie.
    if (await sourceDigest(request, source, signal) !== input.source_digest) throw new SourceChangedError(request.dataset_id)
    const prepared = await prepareExport(source, exportParams(request), {
      ...deps.tuning,
      signal,
      onChecked: (checked, total) => { report({ ...progress, runs_checked: checked, runs_total: total }, checked === total) }
    })
    report({ ...progress, runs_total: prepared.lineCount, runs_checked: prepared.lineCount }, true)
    reporter.phase('writing')
    const writer = await deps.store.create(input.id)
    const hash = createHash('sha256')
    let lines = 0
    let bytes = 0
    try {
      for await (const chunk of prepared.chunks) {
        signal.throwIfAborted()
        hash.update(chunk)
        lines += countLines(chunk)
        bytes += chunk.length
        await writer.write(chunk)
        // Written for good: the export may fill this buffer again (chunk-pool.ts).
        if (writer.releasesChunks === true) prepared.pool?.give(chunk)
        report({ ...progress, lines_written: lines, bytes_written: bytes })
      }
      signal.throwIfAborted()
      const manifest: ResultManifest = {
        job_id: input.id,
        file_name: prepared.fileName,
        sha256: hash.digest('hex'),
        bytes,
        lines,
        format: request.format,
        data_strategy: request.data_strategy ?? 'final_only',
        dataset_id: request.dataset_id,
        source_digest: input.source_digest,
        service_version: SERVICE_VERSION,
        created_at: new Date().toISOString()
      }
      await writer.commit(manifest)
      report({ ...progress, lines_written: lines, bytes_written: bytes }, true)
      return manifest
    } catch (err) {
      await writer.abort().catch(() => {})
      throw err
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err
    const body = dataErrorBody(err)
    throw body === undefined ? err : new JobDataError(body)
  }
}
