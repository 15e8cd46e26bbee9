import { type Config } from '../config.js'
import { ExportJobNotFoundError } from '../errors.js'
import { type ExportTuning } from '../export/prepare-export.js'
import { splitNotFoundError } from '../format/index.js'
import { resolveSource } from '../http/resolve-source.js'
import { type DatasetCatalog } from '../source/types.js'
import { InProcessEngine } from './engines/in-process.js'
import { exportJobId, sourceDigest } from './job-id.js'
import { openResultStore } from './store/open-store.js'
import { type ResultStore, type StoredResult } from './store/types.js'
import { type ExportJobRequest, type JobEngine, type JobLog, type JobStatus } from './types.js'

export { type ExportJobRequest, type ExportJobState, type ExportJobProgress, type JobStatus, EXPORT_JOB_STATES } from './types.js'
export { type ResultStore, type ResultManifest, type StoredResult, type ResultWriter } from './store/types.js'

/** A job's status, with its stored result when it is done. */
export interface ExportJobView extends JobStatus {
  readonly result?: StoredResult
}

/** The config the jobs read. */
export type JobsConfig = Pick<Config, 'redisUrl' | 'exportsDir' | 'exportsS3Url' | 'exportsTtlMs' | 'exportWorkers' | 'exportJobConcurrency' | 'exportJobLockMs' | 'exportQueue'>

export interface ExportJobsOptions {
  readonly catalog?: DatasetCatalog
  readonly tuning?: ExportTuning
  /** Use this store instead of the configured one (tests wrap it). */
  readonly store?: ResultStore
  /** Where job log lines go (jobs started, done, failed tries, worker connection errors). */
  readonly log?: JobLog
}

/**
 * The export jobs of one process: the engine the config names (BullMQ with REDIS_URL, otherwise
 * in process), the result store, and what the routes and the worker command need of them.
 */
export class ExportJobs {
  private sweeper: NodeJS.Timeout | undefined

  constructor (
    readonly engine: JobEngine,
    readonly store: ResultStore,
    private readonly catalog: DatasetCatalog | undefined,
    private readonly ttlMs: number
  ) {}

  /**
   * Create the job of `request`, or find the one the same request over the same content made.
   * What a job could only fail on at once (unknown dataset or split, half an inline body) is
   * thrown here, as the export route would answer it.
   */
  async create (request: ExportJobRequest, signal?: AbortSignal): Promise<{ view: ExportJobView, created: boolean }> {
    const source = await resolveSource(request.dataset_id, request, this.catalog)
    if (!Object.hasOwn(source.split.split_contents, request.split_name)) throw splitNotFoundError(source.split, request.split_name)
    const digest = await sourceDigest(request, source, signal)
    const id = exportJobId(request, digest)
    // Done before (the engine may have forgotten it: a restart, an expired job): the stored result answers.
    const stored = await this.store.get(id)
    if (stored !== undefined) {
      const known = await this.engine.status(id)
      return { view: known?.state === 'done' ? { ...known, result: stored } : doneView(stored), created: false }
    }
    const input = { id, request, source_digest: digest, created_at: new Date().toISOString() }
    let answer = await this.engine.submit(input)
    // Done, but its result is gone (deleted or expired before the job was): run it again.
    if (answer.status.state === 'done' && await this.store.get(id) === undefined) {
      await this.engine.forget(id)
      answer = await this.engine.submit(input)
    }
    return { view: await this.withResult(answer.status), created: answer.created }
  }

  /** The job's status; 404 when neither the engine nor the store knows it. */
  async get (id: string): Promise<ExportJobView> {
    const status = await this.engine.status(id)
    if (status !== undefined) return await this.withResult(status)
    const stored = await this.store.get(id)
    if (stored === undefined) throw new ExportJobNotFoundError(id)
    return doneView(stored)
  }

  /** Cancel a queued or running job, or delete a finished one and its result. */
  async delete (id: string): Promise<{ view: ExportJobView | undefined }> {
    const view = await this.get(id)
    if (view.state === 'queued' || view.state === 'checking' || view.state === 'writing') {
      const status = await this.engine.cancel(id)
      return { view: status === undefined ? undefined : await this.withResult(status) }
    }
    await this.store.delete(id)
    await this.engine.forget(id)
    return { view: undefined }
  }

  /** A done job whose result is gone (deleted, expired) is not found. */
  private async withResult (status: JobStatus): Promise<ExportJobView> {
    if (status.state !== 'done') return status
    const result = await this.store.get(status.id)
    if (result === undefined) throw new ExportJobNotFoundError(status.id)
    return { ...status, result }
  }

  /** Remove expired results now and then (every process does; removing twice is harmless). */
  startSweeping (): void {
    const every = Math.max(1000, Math.min(this.ttlMs / 4, 600_000))
    const sweep = async (): Promise<void> => {
      await this.store.sweep(this.ttlMs).catch(() => 0)
      if (this.engine instanceof InProcessEngine) this.engine.prune(this.ttlMs)
    }
    sweep().catch(() => {})
    this.sweeper = setInterval(() => { sweep().catch(() => {}) }, every).unref()
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
    await this.engine.close()
  }
}

/** The view of a result found in the store only. */
function doneView (stored: StoredResult): ExportJobView {
  const { manifest } = stored
  return {
    id: manifest.job_id,
    state: 'done',
    dataset_id: manifest.dataset_id,
    split_name: '',
    format: manifest.format,
    created_at: manifest.created_at,
    attempts: 0,
    progress: { runs_checked: manifest.lines, runs_total: manifest.lines, lines_written: manifest.lines, bytes_written: manifest.bytes },
    manifest,
    result: stored
  }
}

/**
 * The jobs the config names. `workers`: whether this process runs jobs (BullMQ; the in-process
 * engine always does).
 */
export async function openExportJobs (config: JobsConfig, options: ExportJobsOptions = {}): Promise<ExportJobs> {
  const store = options.store ?? await openResultStore(config)
  const deps = { catalog: options.catalog, store, tuning: options.tuning }
  const engine: JobEngine = config.redisUrl === undefined
    ? new InProcessEngine(deps, { concurrency: config.exportJobConcurrency, log: options.log })
    // BullMQ and ioredis are loaded only with REDIS_URL: a server without it does not pay their memory.
    : new (await import('./engines/bullmq.js')).BullmqEngine(deps, {
      redisUrl: config.redisUrl,
      queueName: config.exportQueue,
      concurrency: config.exportJobConcurrency,
      lockMs: config.exportJobLockMs,
      ttlMs: config.exportsTtlMs,
      log: options.log
    })
  return new ExportJobs(engine, store, options.catalog, config.exportsTtlMs)
}
