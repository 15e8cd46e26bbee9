import { type ChunkPool } from './chunk-pool.js'

/**
 * Encodes JSONL lines straight into UTF-8 chunk buffers of about `chunkBytes`. Writing each line
 * into a Buffer as it is made is the cheapest way to get bytes out of the dumper's strings:
 * joining lines into a chunk string first (then encoding it) cost more than formatting them
 * (see BENCHMARKS.md). A chunk is never reused once handed out: the socket or the spool may still
 * hold it; with a ChunkPool, new chunks come from buffers the pool knows are free again.
 */
export class LineEncoder {
  private chunk: Buffer
  private used = 0
  private linesInChunk = 0
  /** Lines in the chunks handed out so far (a chunk holds whole lines only). */
  completedLines = 0

  constructor (private readonly chunkBytes: number, private readonly pool?: ChunkPool) {
    this.chunk = this.newChunk()
  }

  /** Add a line; returns the chunks that became full (usually none). */
  add (line: string): Buffer[] {
    // A UTF-16 unit takes at most 3 UTF-8 bytes, so this bound never overflows the chunk.
    const worst = line.length * 3
    if (worst <= this.chunk.length - this.used) {
      this.used += this.chunk.write(line, this.used)
      this.linesInChunk++
      return this.used >= this.chunkBytes ? [this.take()] : []
    }
    const ready = this.used > 0 ? [this.take()] : []
    if (worst <= this.chunk.length) {
      this.used += this.chunk.write(line, this.used)
      this.linesInChunk++
    } else {
      ready.push(Buffer.from(line, 'utf8'))
      this.completedLines++
    }
    return ready
  }

  /** Bytes in the chunk being filled (not handed out yet). */
  get pendingBytes (): number {
    return this.used
  }

  /** The last, partly filled chunk, if any. */
  flush (): Buffer | undefined {
    return this.used > 0 ? this.take() : undefined
  }

  private take (): Buffer {
    const full = this.chunk.subarray(0, this.used)
    this.chunk = this.newChunk()
    this.used = 0
    this.completedLines += this.linesInChunk
    this.linesInChunk = 0
    return full
  }

  private newChunk (): Buffer {
    return this.pool?.take() ?? Buffer.allocUnsafe(this.chunkBytes)
  }
}
