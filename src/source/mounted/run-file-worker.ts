import { parentPort } from 'node:worker_threads'
import { type FileBatchRequest, readFileBatch } from './file-batch.js'

/*
 * The worker thread behind RunFileReader: it only opens, reads and closes files, in a tight
 * loop, and hands each batch's buffer to the main thread without a copy. The main thread keeps
 * the parsing and formatting, so the second core takes the system calls.
 */

interface Job extends FileBatchRequest {
  readonly job: number
  /** Buffers of earlier batches, given back for reuse. */
  readonly spares: readonly ArrayBuffer[]
}

/** Buffers the main thread gave back, reused so that batches make no garbage. */
const spares: ArrayBuffer[] = []
const MAX_SPARES = 8

const port = parentPort
if (port === null) throw new Error('run-file-worker.ts must run as a worker thread')

port.on('message', (message: Job) => {
  for (const spare of message.spares) if (spares.length < MAX_SPARES) spares.push(spare)
  try {
    const batch = readFileBatch(message, spares.pop())
    port.postMessage({ job: message.job, batch }, [batch.bytes.buffer, batch.starts.buffer, batch.status.buffer] as ArrayBuffer[])
  } catch (err) {
    port.postMessage({ job: message.job, error: String((err as Error).message) })
  }
})
