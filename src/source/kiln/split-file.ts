import { CompactRunIds } from './compact-run-ids.js'

/*
 * Parse a dataset_split.kiln without building its id lists as JavaScript arrays. A 1M-run split's
 * file is 22 MB; JSON.parse turns its `split_contents` into a million strings (about 40 MB of heap),
 * held for the whole export. Hand-written because no JSON library builds compact lists: this scans
 * the file's bytes once (never decoding the whole file: a 22 MB string would sit in the old
 * generation until a full GC), copies each id's UTF-8 bytes straight into CompactRunIds, and leaves
 * the rest of the document (small) to JSON.parse. The structural characters are ASCII and never
 * occur inside a multi-byte UTF-8 sequence, so scanning bytes finds the same tokens as scanning
 * the decoded text. Anything unexpected (another shape, a second `split_contents` key, an id that
 * is not well-formed Unicode) falls back to JSON.parse of the decoded file, so the result and the
 * errors are always JSON.parse's.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The parsed file: like JSON.parse of the UTF-8 text, with `split_contents` values as CompactRunIds when possible. */
export function parseSplitFile (bytes: Buffer): unknown {
  try {
    const found = findSplitContents(bytes)
    if (found !== undefined) {
      // The rest of the document, with the lists' place taken by `{}`: valid JSON iff the file is.
      const rest = JSON.parse(`${bytes.toString('utf8', 0, found.start)}{}${bytes.toString('utf8', found.end)}`) as unknown
      if (typeof rest === 'object' && rest !== null && !Array.isArray(rest)) return { ...rest, split_contents: found.lists }
    }
  } catch {
    // Not valid JSON after all: JSON.parse below gives the error for the text as written.
  }
  return JSON.parse(bytes.toString('utf8')) as unknown
}

interface Found {
  /** Offsets of the `split_contents` value (its `{` to just after its `}`). */
  readonly start: number
  readonly end: number
  readonly lists: Record<string, CompactRunIds>
}

/** Index just past the string token starting at `i` (a `"`), or -1 when it does not close. */
function stringEnd (bytes: Buffer, i: number): number {
  for (let k = i + 1; k < bytes.length; k++) {
    const c = bytes[k]
    if (c === BACKSLASH) k++
    else if (c === QUOTE) return k + 1
  }
  return -1
}

/** True when the token's content holds a backslash or a control character (JSON allows those only escaped). */
function needsJsonParse (bytes: Buffer, start: number, end: number): boolean {
  for (let k = start + 1; k < end - 1; k++) {
    const c = bytes[k] ?? 0
    if (c < 0x20 || c === BACKSLASH) return true
  }
  return false
}

/** The value of a string token; JSON.parse decodes (or rejects) escapes and control characters. */
function stringValue (bytes: Buffer, start: number, end: number): string {
  return needsJsonParse(bytes, start, end)
    ? JSON.parse(bytes.toString('utf8', start, end)) as string
    : bytes.toString('utf8', start + 1, end - 1)
}

function skipSpace (bytes: Buffer, i: number): number {
  while (i < bytes.length) {
    const c = bytes[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/** The key `split_contents` as it appears in the file, quotes included. */
const KEY = Buffer.from('"split_contents"')

/**
 * Find the root object's one `split_contents` key and read its value; undefined when there is
 * none, there are two, or the value is not an object of arrays of plain strings.
 */
function findSplitContents (bytes: Buffer): Found | undefined {
  let depth = 0
  let found: Found | undefined
  let i = skipSpace(bytes, 0)
  if (bytes[i] !== 0x7b) return undefined
  while (i < bytes.length) {
    const c = bytes[i]
    if (c === QUOTE) {
      const end = stringEnd(bytes, i)
      if (end === -1) return undefined
      const isKey = depth === 1 && bytes[skipSpace(bytes, end)] === 0x3a
      // The key written with escapes (e.g. "split\u005fcontents") is still the key.
      if (isKey && (bytes.subarray(i, end).equals(KEY) || (needsJsonParse(bytes, i, end) && stringValue(bytes, i, end) === 'split_contents'))) {
        if (found !== undefined) return undefined
        const valueStart = skipSpace(bytes, skipSpace(bytes, end) + 1)
        found = readLists(bytes, valueStart)
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

/**
 * Count the strings of the array at `start` and their bytes between quotes (an upper bound of
 * their UTF-8 size once unescaped), so its compact list is allocated once at the right size.
 */
function measureList (bytes: Buffer, start: number): { count: number, size: number } | undefined {
  let count = 0
  let size = 0
  for (let i = start + 1; i < bytes.length; i++) {
    const c = bytes[i]
    if (c === 0x5d) return { count, size }
    if (c !== QUOTE) continue
    const end = stringEnd(bytes, i)
    if (end === -1) return undefined
    count++
    size += end - i - 2
    i = end - 1
  }
  return undefined
}

/** Read `{"name": ["id", ...], ...}` at `start` into compact lists. */
function readLists (bytes: Buffer, start: number): Found | undefined {
  if (bytes[start] !== 0x7b) return undefined
  const lists = new Map<string, CompactRunIds>()
  let i = skipSpace(bytes, start + 1)
  if (bytes[i] === 0x7d) return { start, end: i + 1, lists: {} }
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined
    const nameEnd = stringEnd(bytes, i)
    if (nameEnd === -1) return undefined
    const name = stringValue(bytes, i, nameEnd)
    i = skipSpace(bytes, nameEnd)
    if (bytes[i] !== 0x3a) return undefined
    i = skipSpace(bytes, i + 1)
    if (bytes[i] !== 0x5b) return undefined
    const size = measureList(bytes, i)
    if (size === undefined) return undefined
    const ids = CompactRunIds.builder(size.count, size.size)
    i = skipSpace(bytes, i + 1)
    if (bytes[i] === 0x5d) {
      i = skipSpace(bytes, i + 1)
    } else {
      for (;;) {
        if (bytes[i] !== QUOTE) return undefined
        const idEnd = stringEnd(bytes, i)
        if (idEnd === -1) return undefined
        if (needsJsonParse(bytes, i, idEnd)) {
          const id = stringValue(bytes, i, idEnd)
          // A lone surrogate would not survive UTF-8: keep such a file as JSON.parse reads it.
          if (!id.isWellFormed()) return undefined
          ids.add(id)
        } else {
          // Plain UTF-8 between the quotes: copied as it is (decoded, like the file, when read).
          ids.addBytes(bytes, i + 1, idEnd - 1)
        }
        i = skipSpace(bytes, idEnd)
        const next = bytes[i]
        i = skipSpace(bytes, i + 1)
        if (next === 0x5d) break
        if (next !== 0x2c) return undefined
      }
    }
    // A repeated name: the last one wins, in the first one's place (as JSON.parse does).
    lists.set(name, ids.build())
    const next = bytes[i]
    if (next === 0x7d) return { start, end: i + 1, lists: Object.fromEntries(lists) }
    if (next !== 0x2c) return undefined
    i = skipSpace(bytes, i + 1)
  }
}
