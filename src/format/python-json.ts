/**
 * Byte-exact re-implementation of CPython 3.11's `json.loads(s)` (C scanner, `str` argument) and
 * `json.dumps(obj, ensure_ascii=False)`.
 *
 * Why hand-written: no npm JSON library reproduces Python's behaviour all at once — key order with
 * integer-like keys ("10" before "2" as parsed; plain JS objects reorder them), duplicate keys (last
 * value wins at the first key's position), `NaN`/`Infinity` literals, integers of any length, float
 * `repr` spelling (`1.0`, `1e+16`, `1e-05`), and exact `JSONDecodeError` messages whose positions
 * count code points rather than UTF-16 units. Every rule is checked against python3 3.11 through
 * `scripts/python-json-golden.py` (see `test/format/python-json.test.ts`).
 *
 * Pure module: no fs, no process, no dependencies.
 *
 * Known limitation (not reachable from text decoded from UTF-8): a JS string cannot tell two separate
 * surrogate code points apart from one astral character. If the *input* holds a raw lone surrogate
 * next to an escaped one (raw U+D800 followed by `\udc00`, or `\ud800` followed by raw U+DC00),
 * Python keeps two lone surrogates (and dumping them later fails), while here they join into one
 * valid character.
 */

/** A JSON number kept as text, already spelled the way Python's json.dumps writes it. */
export class PyNumber {
  constructor (readonly text: string, readonly finite: boolean) {}
}

/** A parsed JSON value; objects are Maps so key order (incl. integer-like keys such as "10","2") is kept as parsed. */
export type PyValue = null | boolean | string | PyNumber | PyValue[] | PyObject
export type PyObject = Map<string, PyValue>

/** What dumpPythonJson accepts: parsed values plus plain object literals (whose keys are never integer-like) for the fixed line shapes. */
export type PyDumpable =
  | null
  | boolean
  | string
  | PyNumber
  | readonly PyDumpable[]
  | ReadonlyMap<string, PyDumpable>
  | { readonly [key: string]: PyDumpable }

/** json.JSONDecodeError equivalent: message is exactly Python's str(err), e.g. "Expecting value: line 1 column 1 (char 0)". */
export class PythonJsonDecodeError extends Error {
  readonly msg: string
  /** Code-point index into the parsed text, like Python's `err.pos`. */
  readonly pos: number
  readonly lineno: number
  readonly colno: number

  constructor (msg: string, pos: number, lineno: number, colno: number) {
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`)
    this.name = 'PythonJsonDecodeError'
    this.msg = msg
    this.pos = pos
    this.lineno = lineno
    this.colno = colno
  }
}

/**
 * Failures of json.loads that Python raises as exceptions other than JSONDecodeError:
 * - `int_max_str_digits`: ValueError for an integer literal longer than 4300 digits (message exactly Python 3.11's);
 * - `nesting_too_deep`: RecursionError for containers nested deeper than {@link MAX_NESTING_DEPTH}
 *   (message exactly Python's for the container that crossed the limit). dumpPythonJson throws it
 *   too, with the encoder's message.
 */
export class PythonJsonValueError extends Error {
  readonly kind: 'int_max_str_digits' | 'nesting_too_deep'

  constructor (kind: 'int_max_str_digits' | 'nesting_too_deep', message: string) {
    super(message)
    this.name = 'PythonJsonValueError'
    this.kind = kind
  }
}

/**
 * Thrown by dumpPythonJson when a string holds a lone surrogate. The message is exactly Python's
 * UnicodeEncodeError from `json.dumps(v, ensure_ascii=False).encode('utf-8')`:
 * "'utf-8' codec can't encode character '\ud800' in position N: surrogates not allowed", or, for a run
 * of adjacent lone surrogates, "'utf-8' codec can't encode characters in position N-M: surrogates not allowed".
 */
export class UnencodableStringError extends Error {
  /** Code-point index of the first lone surrogate in the dumped output. */
  readonly position: number
  /** Code-point index just past the run of adjacent lone surrogates starting at `position`. */
  readonly endPosition: number

  constructor (position: number, endPosition: number, firstCodeUnit: number) {
    super(endPosition === position + 1
      ? `'utf-8' codec can't encode character '\\u${firstCodeUnit.toString(16).padStart(4, '0')}' in position ${position}: surrogates not allowed`
      : `'utf-8' codec can't encode characters in position ${position}-${endPosition - 1}: surrogates not allowed`)
    this.name = 'UnencodableStringError'
    this.position = position
    this.endPosition = endPosition
  }
}

/**
 * Deepest container nesting accepted by parsePythonJson (and dumpPythonJson).
 *
 * CPython 3.11 has no fixed JSON depth: its C scanner and encoder count each nested array/object
 * against the interpreter recursion limit (sys.getrecursionlimit() = 1000), which Python frames also
 * use, so the real limit is 1000 minus the caller's stack depth. Measured with 3.11.7: json.loads
 * called from a module's top level accepts 995 nested containers (996 raises RecursionError); from a
 * helper function 994; from 20 frames deeper 974. Dumps behaves the same. 990 is the limit for a
 * caller about ten frames deep, with headroom for the formatter's call stack.
 */
export const MAX_NESTING_DEPTH = 990

const MAX_INT_DIGITS = 4300

const NAN = new PyNumber('NaN', false)
const INFINITY = new PyNumber('Infinity', false)
const NEG_INFINITY = new PyNumber('-Infinity', false)

// ---------------------------------------------------------------------------------------------
// Parsing. Module-level state keeps the recursive descent cheap; parsing is synchronous, so this
// is safe (and parsePythonJson is not re-entered from inside itself).

let src = ''
let len = 0
let pos = 0
let depth = 0

/** Code-point index of the UTF-16 index `index` in `text`: each surrogate pair counts once. */
function codePointIndex (text: string, index: number): number {
  let pairs = 0
  for (let i = 0; i + 1 < index; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++
        i++
      }
    }
  }
  return index - pairs
}

/** Builds Python's JSONDecodeError for a failure at UTF-16 index `at` of `doc` (error path only). */
function decodeError (msg: string, doc: string, at: number): PythonJsonDecodeError {
  const cpPos = codePointIndex(doc, at)
  let lineno = 1
  let lastNewline = -1
  for (let i = doc.indexOf('\n'); i !== -1 && i < at; i = doc.indexOf('\n', i + 1)) {
    lineno++
    lastNewline = i
  }
  const colno = lastNewline < 0 ? cpPos + 1 : cpPos - codePointIndex(doc, lastNewline)
  return new PythonJsonDecodeError(msg, cpPos, lineno, colno)
}

function fail (msg: string, at: number): PythonJsonDecodeError {
  return decodeError(msg, src, at)
}

function skipWs (i: number): number {
  while (i < len) {
    const c = src.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** Value of the hex digit `c`, or -1. */
function hexValue (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

function scanValue (): PyValue {
  const i = pos
  if (i >= len) throw fail('Expecting value', i)
  switch (src.charCodeAt(i)) {
    case 0x22: // "
      return scanString(i)
    case 0x7b: // {
      return scanObject(i)
    case 0x5b: // [
      return scanArray(i)
    case 0x6e: // null
      if (i + 3 < len && src.charCodeAt(i + 1) === 0x75 && src.charCodeAt(i + 2) === 0x6c && src.charCodeAt(i + 3) === 0x6c) {
        pos = i + 4
        return null
      }
      break
    case 0x74: // true
      if (i + 3 < len && src.charCodeAt(i + 1) === 0x72 && src.charCodeAt(i + 2) === 0x75 && src.charCodeAt(i + 3) === 0x65) {
        pos = i + 4
        return true
      }
      break
    case 0x66: // false
      if (i + 4 < len && src.charCodeAt(i + 1) === 0x61 && src.charCodeAt(i + 2) === 0x6c && src.charCodeAt(i + 3) === 0x73 && src.charCodeAt(i + 4) === 0x65) {
        pos = i + 5
        return false
      }
      break
    case 0x4e: // NaN
      if (src.startsWith('NaN', i)) {
        pos = i + 3
        return NAN
      }
      break
    case 0x49: // Infinity
      if (src.startsWith('Infinity', i)) {
        pos = i + 8
        return INFINITY
      }
      break
    case 0x2d: // -Infinity
      if (src.startsWith('-Infinity', i)) {
        pos = i + 9
        return NEG_INFINITY
      }
      break
  }
  return scanNumber(i)
}

/** CPython's _match_number_unicode: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, backing off a partial fraction/exponent. */
function scanNumber (start: number): PyNumber {
  let i = start
  let c = src.charCodeAt(i)
  const negative = c === 0x2d
  if (negative) {
    i++
    if (i >= len) throw fail('Expecting value', start)
    c = src.charCodeAt(i)
  }
  if (c >= 0x31 && c <= 0x39) {
    i++
    while (i < len && isDigit(src.charCodeAt(i))) i++
  } else if (c === 0x30) {
    i++
  } else {
    throw fail('Expecting value', start)
  }
  const intEnd = i
  let isFloat = false
  let hasExponent = false
  if (i + 1 < len && src.charCodeAt(i) === 0x2e && isDigit(src.charCodeAt(i + 1))) {
    isFloat = true
    i += 2
    while (i < len && isDigit(src.charCodeAt(i))) i++
  }
  const fracEnd = i
  if (i + 1 < len) {
    c = src.charCodeAt(i)
    if (c === 0x65 || c === 0x45) {
      const eStart = i
      i++
      c = src.charCodeAt(i)
      if (i + 1 < len && (c === 0x2d || c === 0x2b)) i++
      const digitsStart = i
      while (i < len && isDigit(src.charCodeAt(i))) i++
      if (i > digitsStart) isFloat = hasExponent = true
      else i = eStart
    }
  }
  pos = i
  const text = src.slice(start, i)
  if (!isFloat) {
    const digits = negative ? i - start - 1 : i - start
    if (digits > MAX_INT_DIGITS) {
      throw new PythonJsonValueError('int_max_str_digits',
        `Exceeds the limit (${MAX_INT_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`)
    }
    return new PyNumber(text === '-0' ? '0' : text, true)
  }
  if (!hasExponent && isReprSpelled(negative ? start + 1 : start, intEnd, fracEnd)) return new PyNumber(text, true)
  const x = Number(text)
  return new PyNumber(formatFloat(x), Number.isFinite(x))
}

/**
 * Fast path: whether the fixed-notation float literal src[intStart, fracEnd) (`int.frac`, no
 * exponent) is already spelled the way Python's repr spells its value, so converting and formatting
 * can be skipped. That holds when it has at most 15 significant digits (any such decimal is the
 * shortest round-trip spelling of its double, as DBL_DIG = 15), no trailing zero in the fraction
 * except a lone ".0", and a decimal exponent in [-4, 15] (Python's fixed-notation range).
 */
function isReprSpelled (intStart: number, intEnd: number, fracEnd: number): boolean {
  const intLen = intEnd - intStart
  const fracStart = intEnd + 1
  const fracLen = fracEnd - fracStart
  if (fracLen === 1 && src.charCodeAt(fracStart) === 0x30) return intLen <= 15 // "N.0", "0.0", "-0.0"
  if (src.charCodeAt(fracEnd - 1) === 0x30) return false
  if (intLen === 1 && src.charCodeAt(intStart) === 0x30) {
    let firstNonZero = fracStart
    while (src.charCodeAt(firstNonZero) === 0x30) firstNonZero++
    return firstNonZero - fracStart <= 3 && fracEnd - firstNonZero <= 15
  }
  return intLen + fracLen <= 15
}

/** CPython's scanstring_unicode (strict). `quote` is the index of the opening quote. */
function scanString (quote: number): string {
  let i = quote + 1
  let chunkStart = i
  let out = ''
  for (;;) {
    let c = 0
    while (i < len) {
      c = src.charCodeAt(i)
      if (c === 0x22 || c === 0x5c) break
      if (c < 0x20) throw fail('Invalid control character at', i)
      i++
    }
    if (i >= len) throw fail('Unterminated string starting at', quote)
    if (c === 0x22) {
      pos = i + 1
      return chunkStart === quote + 1 ? src.slice(chunkStart, i) : out + src.slice(chunkStart, i)
    }
    // backslash
    if (i > chunkStart) out += src.slice(chunkStart, i)
    i++
    if (i >= len) throw fail('Unterminated string starting at', quote)
    c = src.charCodeAt(i)
    switch (c) {
      case 0x22: out += '"'; break
      case 0x5c: out += '\\'; break
      case 0x2f: out += '/'; break
      case 0x62: out += '\b'; break
      case 0x66: out += '\f'; break
      case 0x6e: out += '\n'; break
      case 0x72: out += '\r'; break
      case 0x74: out += '\t'; break
      case 0x75: { // \uXXXX: Python wants at least one character after the 4 hex digits
        if (i + 5 >= len) throw fail('Invalid \\uXXXX escape', i)
        const h0 = hexValue(src.charCodeAt(i + 1))
        const h1 = hexValue(src.charCodeAt(i + 2))
        const h2 = hexValue(src.charCodeAt(i + 3))
        const h3 = hexValue(src.charCodeAt(i + 4))
        if ((h0 | h1 | h2 | h3) < 0) throw fail('Invalid \\uXXXX escape', i)
        // Python joins an escaped high surrogate with a following escaped low surrogate; appending
        // the UTF-16 units one by one gives the same string.
        out += String.fromCharCode((h0 << 12) | (h1 << 8) | (h2 << 4) | h3)
        i += 4
        break
      }
      default:
        throw fail('Invalid \\escape', i - 1)
    }
    i++
    chunkStart = i
  }
}

function scanArray (open: number): PyValue[] {
  if (++depth > MAX_NESTING_DEPTH) {
    throw new PythonJsonValueError('nesting_too_deep', 'maximum recursion depth exceeded while decoding a JSON array from a unicode string')
  }
  const arr: PyValue[] = []
  let i = skipWs(open + 1)
  if (i >= len || src.charCodeAt(i) !== 0x5d) {
    for (;;) {
      pos = i
      arr.push(scanValue())
      i = skipWs(pos)
      if (i < len) {
        const c = src.charCodeAt(i)
        if (c === 0x5d) break
        if (c === 0x2c) {
          i = skipWs(i + 1)
          continue
        }
      }
      throw fail("Expecting ',' delimiter", i)
    }
  }
  pos = i + 1
  depth--
  return arr
}

function scanObject (open: number): PyObject {
  if (++depth > MAX_NESTING_DEPTH) {
    throw new PythonJsonValueError('nesting_too_deep', 'maximum recursion depth exceeded while decoding a JSON object from a unicode string')
  }
  const obj: PyObject = new Map()
  let i = skipWs(open + 1)
  if (i >= len || src.charCodeAt(i) !== 0x7d) {
    for (;;) {
      if (i >= len || src.charCodeAt(i) !== 0x22) throw fail('Expecting property name enclosed in double quotes', i)
      const key = scanString(i)
      i = skipWs(pos)
      if (i >= len || src.charCodeAt(i) !== 0x3a) throw fail("Expecting ':' delimiter", i)
      pos = skipWs(i + 1)
      // Map.set keeps the first insertion position and stores the last value, exactly like dict.
      obj.set(key, scanValue())
      i = skipWs(pos)
      if (i < len) {
        const c = src.charCodeAt(i)
        if (c === 0x7d) break
        if (c === 0x2c) {
          i = skipWs(i + 1)
          continue
        }
      }
      throw fail("Expecting ',' delimiter", i)
    }
  }
  pos = i + 1
  depth--
  return obj
}

/** `json.loads(text)` for a str argument. Throws PythonJsonDecodeError or PythonJsonValueError. */
export function parsePythonJson (text: string): PyValue {
  if (text.charCodeAt(0) === 0xfeff) throw decodeError('Unexpected UTF-8 BOM (decode using utf-8-sig)', text, 0)
  src = text
  len = text.length
  depth = 0
  try {
    pos = skipWs(0)
    const value = scanValue()
    const end = skipWs(pos)
    if (end !== len) throw fail('Extra data', end)
    return value
  } finally {
    src = '' // do not keep the (possibly large) document alive
  }
}

// ---------------------------------------------------------------------------------------------
// Float repr

/**
 * Python's float repr: shortest round-trip digits (the same digits as JS), fixed notation when the
 * decimal exponent e satisfies -4 <= e < 16 (always with a fractional part), otherwise
 * `d[.ddd]e±XX` with at least two exponent digits. Non-finite values as json.dumps writes them.
 */
export function formatFloat (x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === 0) return 1 / x < 0 ? '-0.0' : '0.0'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  const ax = x < 0 ? -x : x
  if (ax >= 1e-4 && ax < 1e16) {
    // JS writes fixed notation for 1e-7 <= |x| < 1e21, with the same shortest digits.
    const s = String(x)
    return s.indexOf('.') === -1 ? s + '.0' : s
  }
  const s = x.toExponential() // shortest digits, e.g. "1.5e-7", "1e+21"
  const e = s.indexOf('e')
  return s.length - e === 3 ? s.slice(0, e + 2) + '0' + s.slice(e + 2) : s
}

// ---------------------------------------------------------------------------------------------
// Dumping

let sawLoneSurrogate = false

/** Python's escape_unicode for a string that is not well-formed: lone surrogates are kept raw. */
function quoteRaw (s: string): string {
  let out = '"'
  let chunkStart = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue
    out += s.slice(chunkStart, i)
    chunkStart = i + 1
    switch (c) {
      case 0x22: out += '\\"'; break
      case 0x5c: out += '\\\\'; break
      case 0x08: out += '\\b'; break
      case 0x0c: out += '\\f'; break
      case 0x0a: out += '\\n'; break
      case 0x0d: out += '\\r'; break
      case 0x09: out += '\\t'; break
      default: out += '\\u00' + (c < 0x10 ? '0' : '') + c.toString(16)
    }
  }
  return out + s.slice(chunkStart) + '"'
}

function quote (s: string): string {
  const n = s.length
  if (n <= 64) {
    // Short strings (keys, roles, ...): a plain scan beats a call into the runtime.
    let i = 0
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) break
      i++
    }
    if (i === n) return '"' + s + '"'
  }
  // For well-formed strings JSON.stringify escapes exactly like Python's ensure_ascii=False encoder
  // (\" \\ \b \f \n \r \t, other C0 controls as lowercase \u00xx, nothing else).
  if (s.isWellFormed()) return JSON.stringify(s)
  sawLoneSurrogate = true
  return quoteRaw(s)
}

function isDumpArray (v: PyDumpable): v is readonly PyDumpable[] {
  return Array.isArray(v)
}

function isDumpMap (v: PyDumpable): v is ReadonlyMap<string, PyDumpable> {
  return v instanceof Map
}

function tooDeep (): PythonJsonValueError {
  return new PythonJsonValueError('nesting_too_deep', 'maximum recursion depth exceeded while encoding a JSON object')
}

function dumpValue (v: PyDumpable, level: number): string {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'string':
      return quote(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'object':
      break
    default:
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`)
  }
  if (v instanceof PyNumber) return v.text
  if (++level > MAX_NESTING_DEPTH) throw tooDeep()
  if (isDumpArray(v)) {
    const n = v.length
    if (n === 0) return '[]'
    let out = '[' + dumpValue(v[0] as PyDumpable, level)
    for (let i = 1; i < n; i++) out += ', ' + dumpValue(v[i] as PyDumpable, level)
    return out + ']'
  }
  let out = '{'
  if (isDumpMap(v)) {
    let sep = ''
    for (const entry of v) {
      out += sep + quote(entry[0]) + ': ' + dumpValue(entry[1], level)
      sep = ', '
    }
  } else {
    let sep = ''
    for (const key of Object.keys(v)) {
      out += sep + quote(key) + ': ' + dumpValue(v[key] as PyDumpable, level)
      sep = ', '
    }
  }
  return out + '}'
}

/** Python's UnicodeEncodeError for the first run of lone surrogates in `out`. */
function unencodable (out: string): UnencodableStringError {
  let cp = 0
  for (let i = 0; i < out.length; i++, cp++) {
    const c = out.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c <= 0xdbff && i + 1 < out.length) {
      const d = out.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++
        continue
      }
    }
    // lone surrogate: extend over the following lone surrogates
    let end = cp + 1
    for (let j = i + 1; j < out.length; j++, end++) {
      const d = out.charCodeAt(j)
      if (d < 0xd800 || d > 0xdfff) break
      if (d <= 0xdbff && j + 1 < out.length) {
        const e = out.charCodeAt(j + 1)
        if (e >= 0xdc00 && e <= 0xdfff) break
      }
    }
    return new UnencodableStringError(cp, end, c)
  }
  /* c8 ignore next */
  throw new Error('unencodable() called on a well-formed string')
}

export interface DumpPythonJsonOptions {
  /**
   * Return the text with lone surrogates kept raw instead of throwing, exactly like Python's
   * json.dumps (only writing the text as UTF-8 fails). For text that is embedded in a larger dumped
   * value, so the final dump reports the position in the final output.
   */
  readonly keepLoneSurrogates?: boolean
}

/**
 * `json.dumps(value, ensure_ascii=False)`: separators ", " and ": ", Map/object key order kept.
 * Throws UnencodableStringError when the result could not be written as UTF-8 (lone surrogate),
 * unless `options.keepLoneSurrogates` is set.
 */
export function dumpPythonJson (value: PyDumpable, options?: DumpPythonJsonOptions): string {
  sawLoneSurrogate = false
  const out = dumpValue(value, 0)
  if (sawLoneSurrogate && options?.keepLoneSurrogates !== true) throw unencodable(out)
  return out
}

/**
 * Throw exactly what `dumpPythonJson(value)` would throw, without building the text: the check
 * pass of an export only needs to know that a line can be written. It walks the value in the
 * dumper's order (so the first error is the same one); for a lone surrogate it runs the real
 * dump, whose error message needs the line's text.
 */
export function checkPythonJsonDumpable (value: PyDumpable): void {
  if (!walkDumpable(value, 0)) dumpPythonJson(value)
}

/** False when a string is not well-formed (a lone surrogate); throws dumpValue's other errors. */
function walkDumpable (v: PyDumpable, level: number): boolean {
  if (v === null) return true
  switch (typeof v) {
    case 'string':
      return v.isWellFormed()
    case 'boolean':
      return true
    case 'object':
      break
    default:
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`)
  }
  if (v instanceof PyNumber) return true
  if (++level > MAX_NESTING_DEPTH) throw tooDeep()
  let wellFormed = true
  if (isDumpArray(v)) {
    for (const item of v) wellFormed = walkDumpable(item, level) && wellFormed
  } else if (isDumpMap(v)) {
    for (const entry of v) wellFormed = entry[0].isWellFormed() && walkDumpable(entry[1], level) && wellFormed
  } else {
    for (const key of Object.keys(v)) wellFormed = key.isWellFormed() && walkDumpable(v[key] as PyDumpable, level) && wellFormed
  }
  return wellFormed
}
