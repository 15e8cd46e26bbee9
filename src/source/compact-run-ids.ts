import { type RunIdList } from '../format/index.js'

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

  static builder (): CompactRunIdsBuilder {
    return new CompactRunIdsBuilder((bytes, ends, count) => new CompactRunIds(bytes, ends, 0, count))
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

/** Appends ids; `build` trims the buffers to size. */
export class CompactRunIdsBuilder {
  private bytes = Buffer.allocUnsafe(64 * 1024)
  private ends = new Uint32Array(4096)
  private used = 0
  private count = 0

  constructor (private readonly make: (bytes: Buffer, ends: Uint32Array, count: number) => CompactRunIds) {}

  add (id: string): void {
    const worst = id.length * 3
    if (this.used + worst > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + worst))
      this.bytes.copy(bigger, 0, 0, this.used)
      this.bytes = bigger
    }
    if (this.count === this.ends.length) {
      const bigger = new Uint32Array(this.ends.length * 2)
      bigger.set(this.ends)
      this.ends = bigger
    }
    this.used += this.bytes.write(id, this.used)
    this.ends[this.count++] = this.used
  }

  build (): CompactRunIds {
    return this.make(Buffer.from(this.bytes.subarray(0, this.used)), this.ends.slice(0, this.count), this.count)
  }
}
