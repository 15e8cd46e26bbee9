import { Worker } from 'node:worker_threads'
import { type FileBatch, type FileBatchRequest, readFileBatch } from './file-batch.js'

/**
 * Reads batches of run files on one shared worker thread, so that the system calls (most of an
 * export's cost when the page cache is warm) run on another core while the main thread parses,
 * formats and streams. Requests from concurrent exports are queued on the same worker. When the
 * worker cannot start, or `threads` is false, batches are read synchronously on the main thread.
 */
export class RunFileReader {
  private worker: WorkerState | undefined
  /** False once a worker failed to start: read on the main thread from then on. */
  private threads: boolean
  private nextJob = 0
  /** Buffers given back, sent to the worker with its next job (or reused here). */
  private readonly spares: ArrayBuffer[] = []

  private readonly spawn: () => Worker

  constructor (options: { readonly threads?: boolean, readonly spawn?: () => Worker } = {}) {
    this.threads = options.threads ?? true
    this.spawn = options.spawn ?? spawnWorker
  }

  /** Whether a worker thread is running (false before the first read, and on the fallback path). */
  get threaded (): boolean {
    return this.worker !== undefined
  }

  read (request: FileBatchRequest): Promise<FileBatch> {
    const worker = this.threads ? this.start() : undefined
    if (worker === undefined) return Promise.resolve(this.readHere(request))
    const job = this.nextJob++
    return new Promise((resolve, reject) => {
      worker.pending.set(job, { request, resolve, reject })
      // Keep the process alive only while a batch is outstanding.
      if (worker.pending.size === 1) worker.thread.ref()
      // Spare buffers ride along with the job: one message instead of two.
      const spares = this.spares.splice(0)
      worker.thread.postMessage({ job, ...request, spares }, spares)
    })
  }

  /**
   * Read a batch on the calling (main) thread, now: for a consumer that would otherwise sit idle
   * waiting for the worker (see readRunsInOrder), and for the no-worker path.
   */
  readHere (request: FileBatchRequest): FileBatch {
    return readFileBatch(request, this.spares.pop())
  }

  /**
   * Give a batch's buffer back once its files are decoded (the batch must not be used after):
   * it is refilled by a later read (here or, sent along with the next job, on the worker), so a
   * long export churns no memory through the garbage collector.
   */
  recycle (batch: FileBatch): void {
    const buffer = batch.bytes.buffer
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return
    if (this.spares.length < MAX_SPARES) this.spares.push(buffer)
  }

  /** Stop the worker (tests, shutdown). Pending batches are still answered; a later read starts a new worker. */
  async close (): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    if (worker === undefined) return
    worker.closing = true
    await worker.thread.terminate()
  }

  private start (): WorkerState | undefined {
    if (this.worker !== undefined) return this.worker
    let thread: Worker
    try {
      thread = this.spawn()
    } catch {
      this.threads = false
      return undefined
    }
    const worker = { thread, pending: new Map<number, Waiter>(), closing: false }
    const { pending } = worker
    // 'online' fires before the worker's module has loaded: only an answer proves it works.
    let answered = false
    thread.unref()
    thread.on('message', (message: { job: number, batch?: FileBatch, error?: string }) => {
      answered = true
      const waiter = pending.get(message.job)
      if (waiter === undefined) return
      pending.delete(message.job)
      if (pending.size === 0) thread.unref()
      if (message.batch !== undefined) waiter.resolve(message.batch)
      else waiter.reject(new Error(`run file worker: ${message.error ?? 'failed'}`))
    })
    // A worker that stops (crash, close) or never starts loses no request: reading is
    // idempotent, so what it still owed is read again on the main thread.
    const stopped = (): void => {
      if (this.worker === worker) this.worker = undefined
      // A worker that died before answering anything (it cannot load, say) is not tried again.
      if (!answered && !worker.closing) this.threads = false
      const waiters = [...pending.values()]
      pending.clear()
      for (const waiter of waiters) {
        try {
          waiter.resolve(readFileBatch(waiter.request))
        } catch (err) {
          waiter.reject(err as Error)
        }
      }
    }
    thread.on('error', stopped)
    thread.on('exit', stopped)
    this.worker = worker
    return worker
  }
}

interface WorkerState {
  readonly thread: Worker
  readonly pending: Map<number, Waiter>
  /** Set by close(): stopping on purpose is not a failure to start. */
  closing: boolean
}

/** Spare buffers kept for reuse (about 256 KiB each). */
const MAX_SPARES = 8

interface Waiter {
  readonly request: FileBatchRequest
  readonly resolve: (batch: FileBatch) => void
  readonly reject: (err: Error) => void
}

/**
 * The worker allocates little on its heap (names and paths; the file bytes are off-heap Buffers),
 * so a small young generation keeps its share of the server's memory to a few MiB.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 }

function spawnWorker (): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./run-file-worker.js', import.meta.url), { resourceLimits: WORKER_LIMITS })
  // Running from the TypeScript sources (tsx, vitest): the worker registers tsx itself first,
  // found from here rather than from the working directory (an eval'd worker resolves from there).
  const url = new URL('./run-file-worker.ts', import.meta.url).href
  const tsx = resolveFromHere('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url)}) })`
  return new Worker(bootstrap, { eval: true, resourceLimits: WORKER_LIMITS })
}

function resolveFromHere (specifier: string): string {
  try {
    return import.meta.resolve(specifier)
  } catch {
    return specifier
  }
}
