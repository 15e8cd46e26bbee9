import { type RunIdList } from '../../format/index.js'
import { withRoom } from './with-room.js'

/**
 * A split's run ids as UTF-8 bytes back to back plus their end offsets, off the JavaScript heap:
 * about 16 bytes an id instead of about 40 as an array of strings. A 1M-run split's ids are then
 * ~16 MB of Buffers that the garbage collector never walks, so a huge split does not raise the
 * heap (and with it V8's growth headroom) for the whole export. Slices are views, not copies.
 */
export class CompactRunIds implements RunIdList {
  private constructor (
    private readonly bytes: Buffer,
    /** ends[i] is where id i ends; id i starts at ends[i - 1] (or 0). */
    private readonly ends: Uint32Array,
    private readonly from: number,
    readonly length: number
  ) {}

  /** A builder sized for `count` ids of about `bytes` bytes in all (it grows if needed). */
  static builder (count = 4096, bytes = 64 * 1024): CompactRunIdsBuilder {
    return new CompactRunIdsBuilder(count, bytes, (b, ends, n) => new CompactRunIds(b, ends, 0, n))
  }

  static of (ids: Iterable<string>): CompactRunIds {
    const builder = CompactRunIds.builder()
    for (const id of ids) builder.add(id)
    return builder.build()
  }

  /** Id `i` (0 <= i < length). */
  get (i: number): string {
    const k = this.from + i
    const start = k === 0 ? 0 : this.ends[k - 1] ?? 0
    return this.bytes.toString('utf8', start, this.ends[k])
  }

  slice (start = 0, end = this.length): CompactRunIds {
    const clamp = (n: number): number => Math.min(this.length, Math.max(0, n < 0 ? this.length + n : n))
    const a = clamp(start)
    const b = Math.max(a, clamp(end))
    return new CompactRunIds(this.bytes, this.ends, this.from + a, b - a)
  }

  * [Symbol.iterator] (): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.get(i)
  }
}

/**
 * Appends ids. Sized up front when the caller knows the counts (parseSplitText does), so a large
 * list is built without copies; otherwise the buffers double, and `build` keeps views (no copy).
 */
export class CompactRunIdsBuilder {
  private bytes: Buffer
  private ends: Uint32Array
  private used = 0
  private count = 0

  constructor (count: number, bytes: number, private readonly make: (bytes: Buffer, ends: Uint32Array, count: number) => CompactRunIds) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(16, bytes))
    this.ends = new Uint32Array(Math.max(16, count))
  }

  add (id: string): void {
    // 3 bytes per UTF-16 unit at most; measure exactly only near the end of the buffer.
    if (this.used + id.length * 3 > this.bytes.length) this.bytes = withRoom(this.bytes, this.used, Buffer.byteLength(id))
    this.growEnds()
    this.used += this.bytes.write(id, this.used)
    this.ends[this.count++] = this.used
  }

  /** Add an id given as UTF-8 bytes (`source[start, end)`). */
  addBytes (source: Buffer, start: number, end: number): void {
    this.bytes = withRoom(this.bytes, this.used, end - start)
    this.growEnds()
    this.used += source.copy(this.bytes, this.used, start, end)
    this.ends[this.count++] = this.used
  }

  private growEnds (): void {
    if (this.count < this.ends.length) return
    const bigger = new Uint32Array(this.ends.length * 2)
    bigger.set(this.ends)
    this.ends = bigger
  }

  build (): CompactRunIds {
    return this.make(this.bytes.subarray(0, this.used), this.ends.subarray(0, this.count), this.count)
  }
}
