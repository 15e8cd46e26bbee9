import { ExportJobFailedError } from '../../errors.js'
import { toErrorBody } from '../../http/error-body.js'
import { type ErrorWithReport } from '../../http/schemas/error-response.js'
import { JobDataError, runExportJob, type JobRunnerDeps } from '../run-job.js'
import { type ResultManifest } from '../store/types.js'
import { type ExportJobProgress, type ExportJobState, type JobEngine, type JobInput, type JobLog, type JobStatus } from '../types.js'

/*
 * The embedded engine (no REDIS_URL): a queue in this process, EXPORT_JOB_CONCURRENCY jobs at a
 * time, results in the result store. Jobs live in memory: a restart loses the queued and running
 * ones (their POST can simply be sent again: same id), while finished results stay in the store.
 * An I/O failure is retried with exponential backoff (3 tries in all); a data error is final.
 */

export interface InProcessOptions {
  readonly concurrency: number
  /** Tries per job (I/O failures). Default 3. */
  readonly attempts?: number
  /** The first retry's delay (ms), doubled each time. Default 1000. */
  readonly backoffMs?: number
  /** Where job log lines go. */
  readonly log?: JobLog
}

class Cancelled extends Error {
  override readonly name = 'Cancelled'
}

interface Entry {
  readonly input: JobInput
  state: ExportJobState
  attempts: number
  progress: ExportJobProgress
  error?: ErrorWithReport
  manifest?: ResultManifest
  controller?: AbortController
  running?: Promise<void>
  retry?: NodeJS.Timeout
  finishedAt?: number
}

const NO_PROGRESS: ExportJobProgress = { runs_checked: 0, runs_total: 0, lines_written: 0, bytes_written: 0 }

export class InProcessEngine implements JobEngine {
  readonly kind = 'in-process' as const
  private readonly jobs = new Map<string, Entry>()
  private readonly queue: Entry[] = []
  private running = 0
  private closed = false

  constructor (private readonly deps: JobRunnerDeps, private readonly options: InProcessOptions) {}

  async submit (input: JobInput): Promise<{ status: JobStatus, created: boolean }> {
    const existing = this.jobs.get(input.id)
    // A data failure is the answer for this content; a cancelled job or one that ran out of tries is run again.
    const rerun = existing !== undefined && (existing.state === 'cancelled' || (existing.state === 'failed' && existing.error?.code === 'KEX_EXPORT_JOB_FAILED'))
    if (existing !== undefined && !rerun) return { status: this.view(existing), created: false }
    const entry: Entry = { input, state: 'queued', attempts: 0, progress: NO_PROGRESS }
    this.jobs.set(input.id, entry)
    this.queue.push(entry)
    this.pump()
    return { status: this.view(entry), created: true }
  }

  async status (id: string): Promise<JobStatus | undefined> {
    const entry = this.jobs.get(id)
    return entry === undefined ? undefined : this.view(entry)
  }

  async cancel (id: string): Promise<JobStatus | undefined> {
    const entry = this.jobs.get(id)
    if (entry === undefined) return undefined
    if (entry.state === 'queued') {
      const at = this.queue.indexOf(entry)
      if (at !== -1) this.queue.splice(at, 1)
      clearTimeout(entry.retry)
      this.finish(entry, 'cancelled')
    } else if (entry.state === 'checking' || entry.state === 'writing') {
      entry.controller?.abort(new Cancelled('cancelled'))
      await entry.running
    }
    return this.view(entry)
  }

  async forget (id: string): Promise<void> {
    const entry = this.jobs.get(id)
    if (entry === undefined) return
    if (entry.state === 'queued' || entry.state === 'checking' || entry.state === 'writing') await this.cancel(id)
    this.jobs.delete(id)
  }

  /** Drop finished jobs older than ttlMs from memory (their results are swept from the store). */
  prune (ttlMs: number, now = Date.now()): void {
    for (const [id, entry] of this.jobs) {
      if (entry.finishedAt !== undefined && now - entry.finishedAt > ttlMs) this.jobs.delete(id)
    }
  }

  /** Running jobs finish; queued ones are dropped (lost, as documented). */
  async close (): Promise<void> {
    this.closed = true
    for (const entry of this.queue.splice(0)) this.finish(entry, 'cancelled')
    for (const entry of this.jobs.values()) clearTimeout(entry.retry)
    await Promise.all([...this.jobs.values()].map(async (entry) => await entry.running))
  }

  private view (entry: Entry): JobStatus {
    const { request } = entry.input
    return {
      id: entry.input.id,
      state: entry.state,
      dataset_id: request.dataset_id,
      split_name: request.split_name,
      format: request.format,
      created_at: entry.input.created_at,
      attempts: entry.attempts,
      progress: entry.progress,
      ...(entry.error === undefined ? {} : { error: entry.error }),
      ...(entry.manifest === undefined ? {} : { manifest: entry.manifest })
    }
  }

  private finish (entry: Entry, state: ExportJobState): void {
    entry.state = state
    entry.finishedAt = Date.now()
  }

  private pump (): void {
    while (!this.closed && this.running < this.options.concurrency) {
      const entry = this.queue.shift()
      if (entry === undefined) return
      this.running++
      entry.running = this.run(entry).finally(() => {
        this.running--
        this.pump()
      })
    }
  }

  private async run (entry: Entry): Promise<void> {
    const controller = new AbortController()
    entry.controller = controller
    entry.attempts++
    entry.state = 'checking'
    const reporter = {
      phase: (state: 'checking' | 'writing') => { entry.state = state },
      progress: (progress: ExportJobProgress) => { entry.progress = progress }
    }
    try {
      entry.manifest = await runExportJob(entry.input, this.deps, reporter, controller.signal)
      this.finish(entry, 'done')
    } catch (err) {
      if (controller.signal.reason instanceof Cancelled) {
        this.finish(entry, 'cancelled')
      } else if (err instanceof JobDataError) {
        entry.error = err.body
        this.finish(entry, 'failed')
      } else {
        this.options.log?.('warn', { job: entry.input.id, attempt: entry.attempts, err }, 'export job try failed')
        const attempts = this.options.attempts ?? 3
        if (entry.attempts < attempts && !this.closed) {
          entry.state = 'queued'
          const delay = (this.options.backoffMs ?? 1000) * 2 ** (entry.attempts - 1)
          entry.retry = setTimeout(() => {
            this.queue.push(entry)
            this.pump()
          }, delay).unref()
        } else {
          entry.error = toErrorBody(new ExportJobFailedError(entry.attempts), 0)
          this.finish(entry, 'failed')
        }
      }
    } finally {
      entry.controller = undefined
    }
  }
}
