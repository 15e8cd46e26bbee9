import { type TextTokenCounter } from './tokenizers.js'
import { chatTexts, countChatTokens, type TokenChat } from './tokens.js'
import { type WorkBudget } from './work-budget.js'

/*
 * Token counting for one validation report, with its cost bounded:
 * - a text met again (the system message, tool definitions, thinking instructions: the same on
 *   every line) is counted once, and charged to the report's budget once;
 * - a long text is counted in slices, and the report lets other requests in between them;
 * - a run of letters, symbols or spaces longer than MAX_RUN is counted in pieces of MAX_RUN:
 *   gpt-tokenizer's byte-pair merge is quadratic in the length of such a run (64,000 letters
 *   without a space take 4 s, 4 MiB would take hours).
 * A slice ends between a letter and a space or symbol followed by a letter, where the tokenizer
 * splits the text anyway, so slicing does not change the count. Only a cut where no such place is
 * near (none for 8,000 characters), and the cuts in a run over MAX_RUN, may change it, by about a
 * token per cut.
 */

/** A long text is counted in slices of about this many characters. */
const SLICE_CHARS = 16 * 1024
/** Longest run of letters, symbols or spaces counted in one piece. */
const MAX_RUN = 128
/** Texts at least this long are remembered; shorter ones cost less to count than to keep. */
const MEMO_MIN_CHARS = 256
/** Characters of remembered texts per report at most (they stay in memory until it ends). */
const MEMO_MAX_CHARS = 16 * 1024 * 1024

// A run the tokenizer would take as one piece: letters (with marks), symbols, or spaces.
const LONG_RUN = new RegExp(`[\\p{L}\\p{M}]{${MAX_RUN + 1},}|[^\\s\\p{L}\\p{N}]{${MAX_RUN + 1},}|\\s{${MAX_RUN + 1},}`, 'gu')
const LETTER = /^\p{L}$/u
// Starts a piece of its own when a letter follows (as a prefix of it): not a letter, mark, digit,
// space or apostrophe (which may begin a contraction of the letters before it).
const CUT_SYMBOL = /^[^\s\p{L}\p{M}\p{N}']$/u

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff

function isLetter (code: number): boolean {
  if (code < 0x80) return (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a
  return !(code >= 0xd800 && code <= 0xdfff) && LETTER.test(String.fromCharCode(code))
}

/**
 * True when the tokenizer's pre-split cuts before `i` anyway: a letter, then a space or symbol, then
 * a letter. The piece before ends with the letters; the next one starts at the space or symbol.
 */
function isExactCut (text: string, i: number): boolean {
  const code = text.charCodeAt(i)
  if (!isLetter(text.charCodeAt(i - 1)) || !isLetter(text.charCodeAt(i + 1))) return false
  return code === 0x20 || CUT_SYMBOL.test(String.fromCharCode(code))
}

/** Where a slice from `start` ends: at an exact cut near `start + size`, else at `start + size`. */
export function sliceEnd (text: string, start: number, size: number): number {
  const end = start + size
  if (end >= text.length) return text.length
  for (let i = end; i > start + size / 2; i--) if (isExactCut(text, i)) return i
  return isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end
}

/** Tokens of a slice, its long runs counted in pieces of MAX_RUN. */
function countPieces (text: string, count: TextTokenCounter): number {
  let tokens = 0
  let from = 0
  for (const match of text.matchAll(LONG_RUN)) {
    if (match.index > from) tokens += count(text.slice(from, match.index))
    const run = match[0]
    for (let i = 0; i < run.length;) {
      const end = sliceEnd(run, i, MAX_RUN)
      tokens += count(run.slice(i, end))
      i = end
    }
    from = match.index + run.length
  }
  if (from < text.length) tokens += count(from === 0 ? text : text.slice(from))
  return tokens
}

/** Counts the tokens of one report's examples, charging its budget and pausing as it goes. */
export class ReportTokenCounter {
  private readonly memo = new Map<string, number>()
  private memoChars = 0

  constructor (
    private readonly countText: TextTokenCounter,
    private readonly budget: WorkBudget,
    private readonly sliceChars: number = SLICE_CHARS
  ) {}

  /** Tokens of one example, as countChatTokens counts them. */
  async countChat (chat: TokenChat): Promise<number> {
    const counts = new Map<string, number>()
    for (const text of chatTexts(chat)) {
      if (!counts.has(text)) counts.set(text, await this.count(text))
    }
    return countChatTokens(chat, (text) => counts.get(text) ?? 0)
  }

  /** Tokens of one text: remembered, or counted in slices and charged to the budget. */
  async count (text: string): Promise<number> {
    const remember = text.length >= MEMO_MIN_CHARS
    if (remember) {
      const known = this.memo.get(text)
      if (known !== undefined) return known
    }
    this.budget.spend(text.length)
    let tokens = 0
    for (let start = 0; start < text.length;) {
      const end = sliceEnd(text, start, this.sliceChars)
      tokens += countPieces(start === 0 && end === text.length ? text : text.slice(start, end), this.countText)
      start = end
      if (start < text.length) await this.budget.pause()
    }
    if (remember && this.memoChars + text.length <= MEMO_MAX_CHARS) {
      this.memo.set(text, tokens)
      this.memoChars += text.length
    }
    return tokens
  }
}
