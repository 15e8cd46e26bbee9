import { type ServerResponse } from 'node:http'
import { ExportDeadlineError, TooManyExportsError } from '../errors.js'

/*
 * The export slots (MAX_CONCURRENT_EXPORTS), shared so that they go to exports that make
 * progress. A slot is held from the request until its response closes. When every slot is held
 * and another export asks, the export whose client has read the least over the last
 * EXPORT_RATE_WINDOW_MS gives its slot up, if it read slower than EXPORT_MIN_BYTES_PER_SECOND while
 * the server was waiting on it; otherwise the newcomer gets 503. Every export is stopped after
 * EXPORT_DEADLINE_MS. A stream that is stopped is cut (the connection is destroyed, no final
 * chunk, no trailers), so no client can take it for a complete file.
 */

export interface ExportSlotsOptions {
  readonly maxConcurrentExports: number
  /** Rate (JSONL bytes, before compression) below which a client-bound export may lose its slot; 0: never. */
  readonly exportMinBytesPerSecond: number
  /** The window that rate is measured over (ms). */
  readonly exportRateWindowMs: number
  /** Longest an export may hold a slot (ms); 0: no limit. */
  readonly exportDeadlineMs: number
}

/** What a slot needs of the response it serves. */
export type SlotResponse = Pick<ServerResponse, 'once' | 'headersSent' | 'writableNeedDrain' | 'destroy'>

/** Why an export was stopped by its slot. */
export type CutReason = 'too-slow' | 'deadline'

/** One export's hold on a slot. */
export interface ExportLease {
  /** Aborted when the export must stop: its client went away, or it was cut (see `cutReason`). */
  readonly signal: AbortSignal
  /** Set when the slot stopped the export. */
  readonly cutReason: CutReason | undefined
  /** Count bytes handed to the response (the measure of progress). */
  sent (bytes: number): void
}

/** Samples per rate window. */
const SAMPLES = 10

interface Sample {
  readonly bytes: number
  /** The response was waiting for its client to read (write buffer full). */
  readonly waiting: boolean
}

class Lease implements ExportLease {
  readonly controller = new AbortController()
  cutReason: CutReason | undefined
  bytes = 0
  /** The last SAMPLES + 1 samples since the first byte. */
  readonly samples: Sample[] = []
  deadline: NodeJS.Timeout | undefined

  constructor (readonly response: SlotResponse) {}

  get signal (): AbortSignal { return this.controller.signal }

  sent (bytes: number): void { this.bytes += bytes }

  sample (): void {
    if (this.bytes === 0) return
    this.samples.push({ bytes: this.bytes, waiting: this.response.writableNeedDrain })
    if (this.samples.length > SAMPLES + 1) this.samples.shift()
  }

  /** Bytes read by the client over the last full window, when the server waited on it most of that time. */
  clientBoundBytes (): number | undefined {
    const first = this.samples[0]
    const last = this.samples.at(-1)
    if (this.samples.length <= SAMPLES || first === undefined || last === undefined) return undefined
    const waiting = this.samples.slice(1).filter((s) => s.waiting).length
    return waiting * 2 >= SAMPLES ? last.bytes - first.bytes : undefined
  }

  cut (reason: CutReason, error: Error): void {
    if (this.cutReason !== undefined || this.controller.signal.aborted) return
    this.cutReason = reason
    this.controller.abort(error)
    // Streaming: cut the connection. Not yet: the abort fails the export with a JSON error.
    if (this.response.headersSent) this.response.destroy()
  }
}

/** The slots of one app. */
export class ExportSlots {
  private readonly leases = new Set<Lease>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly options: ExportSlotsOptions) {}

  /** Exports running now (checking or streaming). */
  get active (): number { return this.leases.size }

  /** Take a slot for this response (freed when it closes), taking it from a stalled export if need be, or throw 503. */
  acquire (reply: { readonly raw: SlotResponse }): ExportLease {
    if (this.leases.size >= this.options.maxConcurrentExports) {
      const victim = this.slowest()
      if (victim === undefined) throw new TooManyExportsError(this.leases.size)
      // The reason is never answered: the victim is streaming, so its connection is cut.
      victim.cut('too-slow', new TooManyExportsError(this.leases.size))
      this.release(victim)
    }
    const lease = new Lease(reply.raw)
    this.leases.add(lease)
    reply.raw.once('close', () => {
      lease.controller.abort()
      this.release(lease)
    })
    const { exportDeadlineMs } = this.options
    if (exportDeadlineMs > 0) {
      lease.deadline = setTimeout(() => lease.cut('deadline', new ExportDeadlineError(exportDeadlineMs)), exportDeadlineMs).unref()
    }
    this.timer ??= setInterval(() => { for (const l of this.leases) l.sample() }, this.options.exportRateWindowMs / SAMPLES).unref()
    return lease
  }

  private release (lease: Lease): void {
    if (!this.leases.delete(lease)) return
    clearTimeout(lease.deadline)
    if (this.leases.size === 0) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  /** The client-bound export that read the least over its last window, if that is below the minimum rate. */
  private slowest (): Lease | undefined {
    const floor = this.options.exportMinBytesPerSecond * this.options.exportRateWindowMs / 1000
    let victim: Lease | undefined
    let least = Infinity
    for (const lease of this.leases) {
      const bytes = lease.clientBoundBytes()
      if (bytes !== undefined && bytes < floor && bytes < least) {
        victim = lease
        least = bytes
      }
    }
    return victim
  }
}
