/*
 * Contract: one export's reusable chunk buffers, so that a long export does not leave its written
 * chunks for the garbage collector.
 *
 * Why: every chunk of an export is an off-heap buffer (64 KiB). Once written it is garbage that
 * only a GC frees, and while the body streams the JS heap allocates so little that V8 collects
 * rarely: measured on the 100k-run export, up to 40 MiB of written chunks waited for a GC, a
 * quarter of the server's peak RSS (BENCHMARKS.md). No library recycles buffers across an HTTP
 * response, hence this file.
 *
 * A buffer is reused only once nothing can read it any more:
 * - give(): its one holder is done with it (the spool's write of it finished);
 * - handedOn() + settledUpTo(): the HTTP reply reports each chunk it hands on with the stream offset
 *   of its end, and the offset before which every byte has left the process (its queues are FIFO).
 *   A buffer whose end is at or before that offset is free.
 * Buffers not made here (a line longer than a chunk, say) pass through untouched. A reply that
 * cannot tell what its consumers hold (compression, say) just never reports: its buffers are then
 * garbage as before. Everything is bounded: at most `maxFree` spare buffers (32, 2 MiB of 64 KiB
 * chunks: about what the spool's write queue and one batch hold), and at most
 * MAX_HANDED buffers waiting to be settled (older ones are forgotten, not reused).
 */

/** Buffers handed on and not yet settled, at most (a stuck consumer then makes garbage, not a leak). */
const MAX_HANDED = 64

export class ChunkPool {
  private readonly free: ArrayBuffer[] = []
  private readonly ours = new WeakSet<ArrayBuffer>()
  private readonly handed: Array<{ readonly buffer: ArrayBuffer, readonly end: number }> = []
  /** Buffers handed out again instead of allocated (tests and the bench read it). */
  reused = 0
  /** Buffers allocated. */
  allocated = 0
  /** Buffers the consumer reported as out of the process (settledUpTo). */
  settled = 0

  constructor (readonly chunkBytes: number, private readonly maxFree = 32) {}

  /** A buffer of `chunkBytes` for the next chunk: a free one, or a new one. */
  take (): Buffer {
    const spare = this.free.pop()
    if (spare !== undefined) {
      this.reused++
      return Buffer.from(spare)
    }
    // Its own ArrayBuffer (never Node's shared pool slab), so the whole buffer is ours to reuse.
    const buffer = Buffer.allocUnsafeSlow(this.chunkBytes)
    this.ours.add(buffer.buffer as ArrayBuffer)
    this.allocated++
    return buffer
  }

  /** `chunk` (or the buffer it is a view of) is no longer read by anyone: reuse it. */
  give (chunk: Uint8Array): void {
    const buffer = this.own(chunk)
    if (buffer !== undefined) this.keep(buffer)
  }

  /** The consumer handed `chunk` on; its last byte is at stream offset `end` - 1. */
  handedOn (chunk: Uint8Array, end: number): void {
    const buffer = this.own(chunk)
    if (buffer === undefined) return
    if (this.handed.length >= MAX_HANDED) this.handed.shift()
    this.handed.push({ buffer, end })
  }

  /** Every byte before stream offset `offset` has left the process: the chunks that end there are free. */
  settledUpTo (offset: number): void {
    while (this.handed.length > 0 && (this.handed[0]?.end ?? Infinity) <= offset) {
      const done = this.handed.shift()
      if (done === undefined) break
      this.settled++
      this.keep(done.buffer)
    }
  }

  private own (chunk: Uint8Array): ArrayBuffer | undefined {
    const { buffer } = chunk
    return buffer instanceof ArrayBuffer && this.ours.has(buffer) ? buffer : undefined
  }

  private keep (buffer: ArrayBuffer): void {
    // Never listed twice: two chunks would share one buffer.
    if (this.free.length < this.maxFree && !this.free.includes(buffer)) this.free.push(buffer)
  }
}
