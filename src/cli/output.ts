import { type OutputStream } from './io.js'
import { countLines } from '../jsonl/count-lines.js'

/** Called with each chunk just before it is written (progress counting). */
export type OnChunk = (chunk: Uint8Array) => void

/** The consumer of stdout went away (`| head`): not our failure, stop quietly. */
export function isBrokenPipe (err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EPIPE'
}

/** Resolve when `stream` drains; reject when it errors or closes first. */
function drained (stream: OutputStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.removeListener('drain', onDrain)
      stream.removeListener('error', onError)
      stream.removeListener('close', onClose)
    }
    const onDrain = (): void => { cleanup(); resolve() }
    const onError = (err: unknown): void => { cleanup(); reject(err instanceof Error ? err : new Error(String(err))) }
    const onClose = (): void => { cleanup(); reject(Object.assign(new Error('the output stream closed'), { code: 'EPIPE' })) }
    stream.once('drain', onDrain)
    stream.once('error', onError)
    stream.once('close', onClose)
  })
}

/** Write every chunk to `stream`, waiting for it to drain when its buffer is full (backpressure). */
export async function writeToStream (stream: OutputStream, chunks: AsyncIterable<Uint8Array>, onChunk?: OnChunk): Promise<void> {
  // An EPIPE arrives as an 'error' event after a write: keep it instead of crashing the process.
  let failure: Error | undefined
  const onError = (err: unknown): void => { failure ??= err instanceof Error ? err : new Error(String(err)) }
  stream.once('error', onError)
  try {
    for await (const chunk of chunks) {
      if (failure !== undefined) throw failure
      onChunk?.(chunk)
      if (!stream.write(chunk)) await drained(stream)
    }
    if (failure !== undefined) throw failure
  } finally {
    stream.removeListener('error', onError)
  }
}

/** A `\r` line counter on a terminal; `update` is throttled, `finish` prints the last count and a newline. */
export interface Progress {
  readonly onChunk: OnChunk
  finish (): void
}

/** Progress on `stream` for an export of `total` lines into `label`, redrawn at most every `intervalMs`. */
export function createProgress (stream: OutputStream, label: string, total: number, intervalMs = 100, now: () => number = Date.now): Progress {
  let lines = 0
  let last = -Infinity
  const draw = (): void => {
    const percent = total === 0 ? 100 : Math.floor((lines / total) * 100)
    stream.write(`\rkiln-export: ${label}: ${lines.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} lines (${percent}%)`)
  }
  return {
    onChunk (chunk) {
      lines += countLines(chunk)
      const time = now()
      if (time - last >= intervalMs) {
        last = time
        draw()
      }
    },
    finish () {
      draw()
      stream.write('\n')
    }
  }
}
