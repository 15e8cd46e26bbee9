import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { type RunIdList } from '../../format/index.js'
import { outOfFileHandles } from '../../out-of-files.js'
import { decodeTaskRunFile, invalidRunFile } from '../kiln/index.js'
import { type RunLookup } from '../types.js'
import { FILE_LINK, FILE_MISSING, FILE_NOT_REGULAR, FILE_TOO_LARGE, FILE_UNREADABLE, type FileBatch, type FileBatchRequest } from './file-batch.js'
import { LINK, notRegular, runFileLimit, tooLarge } from './kiln-files.js'
import { type RunFileReader } from './run-file-reader.js'

/*
 * The runs of an export, read in batches (on the reader's worker thread, and on this one when the
 * worker is behind) and decoded one by one (../kiln/). Every failure names the run, never a path.
 */

/** Batches the worker reads ahead of the one being parsed (about 170 KB each). */
const PREFETCH = 4
/** Batches in hand or on their way at most, counting those this thread read itself. */
const MAX_AHEAD = 12

/** Where runs are read: `runs/` of a task, and the limits and links it is read with. */
export interface RunsFolder {
  readonly dir: string
  /** Its entries that are symbolic links (see linkNames). */
  readonly links: Promise<ReadonlySet<string>>
  /** MAX_RUN_FILE_BYTES. */
  readonly maxBytes: number
}

/** Turn file i of a batch into a lookup; every failure names the run, never a path. */
function lookupOf (batch: FileBatch, i: number, id: string, maxBytes: number): RunLookup {
  switch (batch.status[i]) {
    case FILE_MISSING: return { id, status: 'missing' }
    case FILE_LINK: return invalidRunFile(id, LINK)
    case FILE_UNREADABLE: {
      const code = batch.codes[i] ?? 'error'
      // Load, not a bad run: the whole request fails (503), the run is not reported.
      if (code === 'EMFILE' || code === 'ENFILE') throw outOfFileHandles(code)
      return invalidRunFile(id, `cannot be read (${code})`)
    }
    case FILE_NOT_REGULAR: return invalidRunFile(id, notRegular(batch.codes[i] ?? 'not a regular file').message)
    case FILE_TOO_LARGE: return invalidRunFile(id, tooLarge(Number(batch.codes[i]), runFileLimit(maxBytes)).message)
  }
  const { bytes, starts } = batch
  return decodeTaskRunFile(id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', starts[i], starts[i + 1]))
}

/** A batch on its way: its promise, and the batch itself once it is here. */
interface Fetch {
  readonly promise: Promise<FileBatch>
  batch?: FileBatch
}

/** True when there is nothing to wait for: no batch at all, or one that has arrived. */
const arrived = (fetch: Fetch | undefined): boolean => fetch === undefined || fetch.batch !== undefined

/**
 * Yield the lookups of `ids` in order, in batches. The reader's worker fetches the next batches
 * while this one is parsed (at most PREFETCH in flight, so memory stays bounded). When the batch
 * needed next has not arrived, this thread reads the next unrequested batch itself instead of
 * waiting (at most MAX_AHEAD batches ahead): on a 2-core machine the worker's system calls are
 * the slower half of the check pass. The event loop gets a turn between batches, so other
 * requests and the client's backpressure are served.
 */
export async function * readRunsInOrder (
  reader: RunFileReader,
  runs: RunsFolder,
  ids: RunIdList,
  batchSize: number,
  signal?: AbortSignal
): AsyncIterable<readonly RunLookup[]> {
  const linked = [...await runs.links]
  const queue: Fetch[] = []
  let next = 0
  const request = (): FileBatchRequest => {
    const names = [...ids.slice(next, next + batchSize)]
    next += names.length
    return { dir: runs.dir, names, file: 'task_run.kiln', links: linked, maxBytes: runs.maxBytes }
  }
  // The worker always has up to PREFETCH batches to read, whatever this thread read itself.
  const fetchMore = (): void => {
    while (queue.filter((fetch) => !arrived(fetch)).length < PREFETCH && queue.length < MAX_AHEAD && next < ids.length) {
      const fetch: Fetch = { promise: reader.read(request()) }
      // A batch left unread after an abort must not become an unhandled rejection.
      fetch.promise.then((batch) => { fetch.batch = batch }, () => {})
      queue.push(fetch)
    }
  }
  // A function, not a narrowed expression: the signal can abort during any await below.
  const aborted = (): boolean => signal?.aborted === true
  for (let start = 0; start < ids.length; start += batchSize) {
    if (aborted()) return
    fetchMore()
    // Rather than wait for the worker, read a batch here, then give its answer a chance to
    // arrive, until it has; the worker keeps its own batches meanwhile.
    while (!arrived(queue[0]) && queue.length < MAX_AHEAD && next < ids.length) {
      const batch = reader.readHere(request())
      queue.push({ promise: Promise.resolve(batch), batch })
      await yieldToEventLoop()
      fetchMore()
    }
    const batch = await queue.shift()?.promise
    if (batch === undefined) return
    if (start > 0) await yieldToEventLoop()
    if (aborted()) return
    const lookups = Array.from(ids.slice(start, start + batchSize), (id, i) => lookupOf(batch, i, id, runs.maxBytes))
    // The lookups hold decoded copies: the batch's buffer can go back to the reader.
    reader.recycle(batch)
    yield lookups
  }
}
