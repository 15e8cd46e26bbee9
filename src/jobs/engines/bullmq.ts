import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq'
import { Redis, type RedisOptions } from 'ioredis'
import { ExportJobFailedError, JobQueueUnavailableError } from '../../errors.js'
import { toErrorBody } from '../../http/error-body.js'
import { type ErrorWithReport } from '../../http/schemas/error-response.js'
import { JobDataError, runExportJob, type JobRunnerDeps } from '../run-job.js'
import { type ResultManifest } from '../store/types.js'
import { type ExportJobProgress, type ExportJobState, type JobEngine, type JobInput, type JobLog, type JobStatus } from '../types.js'

/*
 * The BullMQ engine (REDIS_URL): one queue in Redis, workers in any number of processes (the
 * server with EXPORT_WORKERS on, and `kiln-export worker`). BullMQ does the hard parts:
 * - the job id is ours, so adding a job that exists adds nothing (a retried POST);
 * - a worker holds a lock on its job, renewed while it runs; a worker that dies (SIGKILL, a lost
 *   machine) stops renewing it, and after EXPORT_JOB_LOCK_MS another worker's stalled check
 *   puts the job back in the queue, where it is redone from the start (results are written under
 *   a temp name and renamed, so the redo writes the same bytes and nothing half-written shows);
 * - an I/O failure is retried with exponential backoff (3 tries); a data error is thrown as an
 *   UnrecoverableError carrying the route's error body, and is never retried;
 * - progress goes through job.updateProgress.
 * Cancelling a running job sets a key in Redis that its worker checks twice a second (any worker
 * may hold it); a queued job is removed at once. Redis must persist (AOF) for queued jobs to
 * survive a Redis restart; workers and the API reconnect by themselves.
 */

export interface BullmqOptions {
  readonly redisUrl: string
  readonly queueName: string
  /** Jobs one worker process runs at once (EXPORT_JOB_CONCURRENCY). */
  readonly concurrency: number
  /** BullMQ lockDuration; also the stalled-job check interval (EXPORT_JOB_LOCK_MS). */
  readonly lockMs: number
  /** How long finished jobs are kept (EXPORTS_TTL). */
  readonly ttlMs: number
  /** Where the worker's log lines go (a job started, finished, failed a try; connection errors). */
  readonly log?: JobLog
}

/** What a worker reports through job.updateProgress. */
interface ProgressData extends ExportJobProgress {
  readonly state: 'checking' | 'writing'
}

/** The failedReason of a cancelled job. */
const CANCELLED = 'KEX_EXPORT_CANCELLED'
/** How often a running job checks whether it was cancelled (ms). */
const CANCEL_POLL_MS = 500
/** The longest the API waits for Redis before answering 503. */
const REDIS_TIMEOUT_MS = 5000

const NO_PROGRESS: ExportJobProgress = { runs_checked: 0, runs_total: 0, lines_written: 0, bytes_written: 0 }

class Cancelled extends Error {
  override readonly name = 'Cancelled'
}

/** ioredis options for REDIS_URL. Workers must wait for Redis forever (BullMQ requires it); the API fails fast. */
function connection (url: string, blocking: boolean): Redis {
  const options: RedisOptions = blocking
    ? { maxRetriesPerRequest: null, enableReadyCheck: false }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: REDIS_TIMEOUT_MS }
  return new Redis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 2000) })
}

/** Answer within REDIS_TIMEOUT_MS or 503 KEX_JOB_QUEUE_UNAVAILABLE. */
async function answered<T> (work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new JobQueueUnavailableError()) }, REDIS_TIMEOUT_MS)
  })
  try {
    return await Promise.race([work, timeout])
  } catch (err) {
    if (err instanceof JobQueueUnavailableError) throw err
    // Connection errors (ECONNREFUSED, "Reached the max retries per request limit"): the queue is unavailable.
    throw Object.assign(new JobQueueUnavailableError(), { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

export class BullmqEngine implements JobEngine {
  readonly kind = 'bullmq' as const
  private readonly redis: Redis
  private readonly queue: Queue<JobInput, ResultManifest>
  private worker: Worker<JobInput, ResultManifest> | undefined
  private workerRedis: Redis | undefined

  constructor (private readonly deps: JobRunnerDeps, private readonly options: BullmqOptions) {
    this.redis = connection(options.redisUrl, false)
    // Errors surface on the calls that need Redis; without a listener ioredis would print each one.
    this.redis.on('error', () => {})
    this.queue = new Queue(options.queueName, { connection: this.redis })
    this.queue.on('error', () => {})
  }

  private key (kind: 'cancel' | 'cancelled', id: string): string {
    return `kiln-export:${this.options.queueName}:${kind}:${id}`
  }

  async submit (input: JobInput): Promise<{ status: JobStatus, created: boolean }> {
    return await answered((async () => {
      const existing = await this.queue.getJob(input.id)
      if (existing !== undefined) {
        const status = await this.view(existing)
        const rerun = status.state === 'cancelled' || (status.state === 'failed' && status.error?.code === 'KEX_EXPORT_JOB_FAILED')
        if (!rerun) return { status, created: false }
        await existing.remove()
      }
      await this.redis.del(this.key('cancel', input.id), this.key('cancelled', input.id))
      const ttlSeconds = Math.ceil(this.options.ttlMs / 1000)
      const job = await this.queue.add('export', input, {
        jobId: input.id,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: ttlSeconds },
        removeOnFail: { age: ttlSeconds }
      })
      return { status: await this.view(job), created: true }
    })())
  }

  async status (id: string): Promise<JobStatus | undefined> {
    return await answered((async () => {
      const job = await this.queue.getJob(id)
      if (job !== undefined) return await this.view(job)
      // A queued job that was cancelled was removed: its status was kept for EXPORTS_TTL.
      const cancelled = await this.redis.get(this.key('cancelled', id))
      return cancelled === null ? undefined : JSON.parse(cancelled) as JobStatus
    })())
  }

  async cancel (id: string): Promise<JobStatus | undefined> {
    const status = await this.status(id)
    if (status === undefined || status.state === 'done' || status.state === 'failed' || status.state === 'cancelled') return status
    await answered((async () => {
      const ttlSeconds = Math.ceil(this.options.ttlMs / 1000)
      await this.redis.set(this.key('cancel', id), '1', 'EX', ttlSeconds)
      const job = await this.queue.getJob(id)
      // A queued job is removed; one a worker holds (remove() refuses it) stops at its next check.
      const removed = job !== undefined && await job.remove().then(() => true, () => false)
      if (removed) await this.redis.set(this.key('cancelled', id), JSON.stringify({ ...status, state: 'cancelled' }), 'EX', ttlSeconds)
    })())
    // Give a running job the time to see the flag, so the answer says `cancelled`.
    for (let waited = 0; waited < 4 * CANCEL_POLL_MS; waited += 100) {
      const now = await this.status(id)
      if (now === undefined || (now.state !== 'checking' && now.state !== 'writing' && now.state !== 'queued')) return now
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return await this.status(id)
  }

  async forget (id: string): Promise<void> {
    await answered((async () => {
      const job = await this.queue.getJob(id)
      await job?.remove().catch(() => {})
      await this.redis.del(this.key('cancel', id), this.key('cancelled', id))
    })())
  }

  private async view (job: Job<JobInput, ResultManifest>): Promise<JobStatus> {
    const input = job.data
    const bullState = await job.getState()
    const data = typeof job.progress === 'object' && job.progress !== null ? job.progress as unknown as Partial<ProgressData> : {}
    const progress: ExportJobProgress = {
      runs_checked: data.runs_checked ?? 0,
      runs_total: data.runs_total ?? 0,
      lines_written: data.lines_written ?? 0,
      bytes_written: data.bytes_written ?? 0
    }
    let state: ExportJobState = 'queued'
    let error: ErrorWithReport | undefined
    if (bullState === 'completed') state = 'done'
    else if (bullState === 'active') state = data.state ?? 'checking'
    else if (bullState === 'failed') {
      const reason = job.failedReason ?? ''
      if (reason === CANCELLED) state = 'cancelled'
      else {
        state = 'failed'
        error = parseErrorBody(reason) ?? toErrorBody(new ExportJobFailedError(job.attemptsMade), 0)
      }
    }
    return {
      id: input.id,
      state,
      dataset_id: input.request.dataset_id,
      split_name: input.request.split_name,
      format: input.request.format,
      created_at: input.created_at,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      progress,
      ...(error === undefined ? {} : { error }),
      ...(state === 'done' && job.returnvalue !== null && job.returnvalue !== undefined ? { manifest: job.returnvalue } : {})
    }
  }

  /** Take jobs in this process. */
  async startWorkers (): Promise<void> {
    if (this.worker !== undefined) return
    const redis = connection(this.options.redisUrl, true)
    redis.on('error', () => {})
    this.workerRedis = redis
    const poller = connection(this.options.redisUrl, false)
    poller.on('error', () => {})
    this.worker = new Worker<JobInput, ResultManifest>(this.options.queueName, async (job, _token, signal) => await this.process(job, poller, signal), {
      connection: redis,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockMs,
      stalledInterval: this.options.lockMs,
      // A job whose worker died is redone; twice in a row means something kills workers on it.
      maxStalledCount: 2
    })
    this.worker.on('error', (err) => { this.options.log?.('warn', { err }, 'export worker: Redis error') })
    this.worker.on('closed', () => { poller.disconnect() })
    await this.worker.waitUntilReady()
  }

  private async process (job: Job<JobInput, ResultManifest>, poller: Redis, signal: AbortSignal | undefined): Promise<ResultManifest> {
    const controller = new AbortController()
    const onAbort = (): void => { controller.abort(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const cancelKey = this.key('cancel', job.data.id)
    const checkCancel = async (): Promise<void> => {
      if (await poller.exists(cancelKey).catch(() => 0) === 1) controller.abort(new Cancelled('cancelled'))
    }
    await checkCancel()
    const poll = setInterval(() => { checkCancel().catch(() => {}) }, CANCEL_POLL_MS)
    const fields = { job: job.data.id, dataset: job.data.request.dataset_id, attempt: job.attemptsMade + 1, pid: process.pid }
    this.options.log?.('info', fields, 'export job started')
    let state: ProgressData['state'] = 'checking'
    let progress = NO_PROGRESS
    const send = (): void => { job.updateProgress({ state, ...progress }).catch(() => {}) }
    try {
      const manifest = await runExportJob(job.data, this.deps, {
        phase: (next) => { state = next; send() },
        progress: (next) => { progress = next; send() }
      }, controller.signal)
      this.options.log?.('info', { ...fields, lines: manifest.lines, bytes: manifest.bytes }, 'export job done')
      return manifest
    } catch (err) {
      if (controller.signal.reason instanceof Cancelled) {
        this.options.log?.('info', fields, 'export job cancelled')
        throw new UnrecoverableError(CANCELLED)
      }
      if (err instanceof JobDataError) {
        this.options.log?.('info', { ...fields, code: err.body.code }, 'export job refused the data')
        throw new UnrecoverableError(JSON.stringify(err.body))
      }
      this.options.log?.('warn', { ...fields, err }, 'export job try failed')
      throw err
    } finally {
      clearInterval(poll)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Workers finish their running jobs (the caller bounds this by the shutdown grace), then the connections close. */
  async close (): Promise<void> {
    await this.worker?.close()
    this.workerRedis?.disconnect()
    await this.queue.close().catch(() => {})
    this.redis.disconnect()
  }
}

/** The error body a data failure carries in its failedReason. */
function parseErrorBody (reason: string): ErrorWithReport | undefined {
  if (!reason.startsWith('{')) return undefined
  try {
    const body = JSON.parse(reason) as Partial<ErrorWithReport>
    return typeof body.code === 'string' && typeof body.message === 'string' && typeof body.statusCode === 'number' ? body as ErrorWithReport : undefined
  } catch {
    return undefined
  }
}
