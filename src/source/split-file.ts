import { CompactRunIds } from './compact-run-ids.js'

/*
 * Parse a dataset_split.kiln without building its id lists as JavaScript arrays. A 1M-run split's
 * file is 22 MB; JSON.parse turns its `split_contents` into a million strings (about 40 MB of heap),
 * held for the whole export. Hand-written because no JSON library builds compact lists: this scans
 * the text once, reads `split_contents` (an object of arrays of strings) straight into
 * CompactRunIds, and leaves the rest of the document (small) to JSON.parse. Anything unexpected
 * (another shape, a second `split_contents` key, an id that is not well-formed Unicode) falls
 * back to plain JSON.parse, so the result and the errors are always JSON.parse's.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The parsed file: like JSON.parse(text), with `split_contents` values as CompactRunIds when possible. */
export function parseSplitText (text: string): unknown {
  try {
    const found = findSplitContents(text)
    if (found !== undefined) {
      // The rest of the document, with the lists' place taken by `{}`: valid JSON iff the file is.
      const rest = JSON.parse(`${text.slice(0, found.start)}{}${text.slice(found.end)}`) as unknown
      if (typeof rest === 'object' && rest !== null && !Array.isArray(rest)) return { ...rest, split_contents: found.lists }
    }
  } catch {
    // Not valid JSON after all: JSON.parse below gives the error for the text as written.
  }
  return JSON.parse(text) as unknown
}

interface Found {
  /** Offsets of the `split_contents` value (its `{` to just after its `}`). */
  readonly start: number
  readonly end: number
  readonly lists: Record<string, CompactRunIds>
}

/** Index just past the string token starting at `i` (a `"`), or -1 when it does not close. */
function stringEnd (text: string, i: number): number {
  for (let k = i + 1; k < text.length; k++) {
    const c = text.charCodeAt(k)
    if (c === BACKSLASH) k++
    else if (c === QUOTE) return k + 1
  }
  return -1
}

/** True when `raw` holds a backslash or a control character (JSON allows those only escaped). */
function needsJsonParse (raw: string): boolean {
  for (let k = 0; k < raw.length; k++) {
    const c = raw.charCodeAt(k)
    if (c < 0x20 || c === BACKSLASH) return true
  }
  return false
}

/** The value of a string token; JSON.parse decodes (or rejects) escapes and control characters. */
function stringValue (text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1)
  return needsJsonParse(raw) ? JSON.parse(text.slice(start, end)) as string : raw
}

function skipSpace (text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/**
 * Find the root object's one `split_contents` key and read its value; undefined when there is
 * none, there are two, or the value is not an object of arrays of plain strings.
 */
function findSplitContents (text: string): Found | undefined {
  let depth = 0
  let found: Found | undefined
  let i = skipSpace(text, 0)
  if (text.charCodeAt(i) !== 0x7b) return undefined
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(text, i)
      if (end === -1) return undefined
      const isKey = depth === 1 && text.charCodeAt(skipSpace(text, end)) === 0x3a
      if (isKey && stringValue(text, i, end) === 'split_contents') {
        if (found !== undefined) return undefined
        const valueStart = skipSpace(text, skipSpace(text, end) + 1)
        found = readLists(text, valueStart)
        if (found === undefined) return undefined
        i = found.end
        continue
      }
      i = end
      continue
    }
    if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) depth--
    i++
  }
  return found
}

/** Read `{"name": ["id", ...], ...}` at `start` into compact lists. */
function readLists (text: string, start: number): Found | undefined {
  if (text.charCodeAt(start) !== 0x7b) return undefined
  const lists = new Map<string, CompactRunIds>()
  let i = skipSpace(text, start + 1)
  if (text.charCodeAt(i) === 0x7d) return { start, end: i + 1, lists: {} }
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined
    const nameEnd = stringEnd(text, i)
    if (nameEnd === -1) return undefined
    const name = stringValue(text, i, nameEnd)
    i = skipSpace(text, nameEnd)
    if (text.charCodeAt(i) !== 0x3a) return undefined
    i = skipSpace(text, i + 1)
    if (text.charCodeAt(i) !== 0x5b) return undefined
    const ids = CompactRunIds.builder()
    i = skipSpace(text, i + 1)
    if (text.charCodeAt(i) === 0x5d) {
      i = skipSpace(text, i + 1)
    } else {
      for (;;) {
        if (text.charCodeAt(i) !== QUOTE) return undefined
        const idEnd = stringEnd(text, i)
        if (idEnd === -1) return undefined
        const id = stringValue(text, i, idEnd)
        // A lone surrogate would not survive UTF-8: keep such a file as JSON.parse reads it.
        if (!id.isWellFormed()) return undefined
        ids.add(id)
        i = skipSpace(text, idEnd)
        const next = text.charCodeAt(i)
        i = skipSpace(text, i + 1)
        if (next === 0x5d) break
        if (next !== 0x2c) return undefined
      }
    }
    // A repeated name: the last one wins, in the first one's place (as JSON.parse does).
    lists.set(name, ids.build())
    const next = text.charCodeAt(i)
    if (next === 0x7d) return { start, end: i + 1, lists: Object.fromEntries(lists) }
    if (next !== 0x2c) return undefined
    i = skipSpace(text, i + 1)
  }
}
