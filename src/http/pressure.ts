import { monitorEventLoopDelay } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** Why the service is under pressure, if it is. */
export type PressureReason = 'event-loop-delay' | 'heap'

export interface PressureOptions {
  /** Mean event-loop delay (ms) over a sample past which the service is under pressure; 0: off. */
  readonly maxEventLoopDelayMs: number
  /** Heap bytes in use past which the service is under pressure; 0: off. */
  readonly maxHeapUsedBytes: number
}

/** The pressure the service is under, sampled once a second. */
export interface PressureWatch {
  /** The reason of the last sample, or undefined when it was fine. */
  readonly reason: PressureReason | undefined
  stop (): void
}

const RESOLUTION_MS = 10
const SAMPLE_MS = 1000

/**
 * What @fastify/under-pressure measured (the mean event-loop delay of each 1 s sample, minus the
 * histogram's resolution; heap in use), without its `process.memoryUsage()`: that call reads
 * /proc/self/stat, so under a connection flood at the open-file limit it threw EMFILE from a timer
 * and took the process down. Nothing here opens a file.
 */
export function watchPressure (options: PressureOptions): PressureWatch {
  let reason: PressureReason | undefined
  const checkDelay = options.maxEventLoopDelayMs > 0
  const checkHeap = options.maxHeapUsedBytes > 0
  if (!checkDelay && !checkHeap) return { reason: undefined, stop () {} }
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  const timer = setInterval(() => {
    // No sample at all means the loop was blocked for the whole second.
    const delay = Number.isNaN(histogram.mean) ? Infinity : Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS)
    histogram.reset()
    if (checkDelay && delay > options.maxEventLoopDelayMs) reason = 'event-loop-delay'
    else if (checkHeap && getHeapStatistics().used_heap_size > options.maxHeapUsedBytes) reason = 'heap'
    else reason = undefined
  }, SAMPLE_MS)
  timer.unref()
  return {
    get reason () { return reason },
    stop () {
      clearInterval(timer)
      histogram.disable()
    }
  }
}
