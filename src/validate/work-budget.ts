import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

/*
 * What one validation report may cost, and how it shares the event loop. A report formats, parses
 * and checks each line and tokenizes its texts, all on the main thread; a small body can ask for a
 * lot (a 4 MiB system message is written on every line). So the work is counted in characters
 * against a limit, and the report lets other requests in every few milliseconds.
 */

/**
 * VALIDATE_MAX_CHARS's default: 512 Mi characters, about a 250 MB training file (its lines are
 * checked once, and their texts tokenized once more).
 */
export const DEFAULT_MAX_WORK_CHARS = 512 * 1024 * 1024

/** How long a report holds the event loop before it lets other requests in. */
const SLICE_MS = 10

const formatCount = (n: number): string => n.toLocaleString('en-US')

/** A report that would do more work than its limit allows; thrown before or while it runs. */
export class WorkBudgetExceededError extends Error {
  override readonly name = 'WorkBudgetExceededError'

  constructor (readonly limit: number, message: string) {
    super(message)
  }
}

/** The characters one report may work through, and its turns on the event loop. */
export class WorkBudget {
  private spent = 0
  private sliceStart = performance.now()

  constructor (readonly limit: number, private readonly signal?: AbortSignal) {}

  /** Characters counted so far. */
  get used (): number {
    return this.spent
  }

  /** Count `chars` characters of work; throws WorkBudgetExceededError past the limit. */
  spend (chars: number): void {
    this.spent += chars
    if (this.spent > this.limit) {
      throw new WorkBudgetExceededError(this.limit, `This validation needs more than its limit of ${formatCount(this.limit)} characters of work: ` +
        'the lines it formats and checks, plus the texts it tokenizes (a text repeated on many lines counts once)')
    }
  }

  /**
   * Refuse up front when `lines` lines of at least `charsPerLine` characters each are already over
   * the limit (a long system message on many runs): no need to check most of them first.
   */
  expect (lines: number, charsPerLine: number, what: string): void {
    if (lines * charsPerLine <= this.limit) return
    throw new WorkBudgetExceededError(this.limit, `${what} (${formatCount(charsPerLine)} characters) would be written on each of ` +
      `${formatCount(lines)} lines: at least ${formatCount(lines * charsPerLine)} characters to check, over the limit of ${formatCount(this.limit)}`)
  }

  /** Let other requests in when this report has held the event loop for a while; stops when the client went away. */
  async pause (): Promise<void> {
    if (performance.now() - this.sliceStart < SLICE_MS) return
    await yieldToEventLoop()
    this.sliceStart = performance.now()
    this.signal?.throwIfAborted()
  }
}
