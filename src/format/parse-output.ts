import { FormatError } from './errors.js'
import {
  PyNumber,
  PythonJsonDecodeError,
  PythonJsonValueError,
  parsePythonJson,
  type PyValue
} from './python-json.js'

/**
 * Longest slice of an output quoted in an error message. Kiln quotes it all (spec 13.11); we keep
 * Kiln's exact message for any realistic output and cut only pathological ones.
 */
const MAX_QUOTED_OUTPUT = 64 * 1024

/** Quote an output in an error message, cut so that a huge output cannot make a huge response. */
export function quoteOutput (output: string): string {
  if (output.length <= MAX_QUOTED_OUTPUT) return output
  // Do not cut a surrogate pair in two: that would put a lone surrogate in the message.
  const code = output.charCodeAt(MAX_QUOTED_OUTPUT - 1)
  const end = code >= 0xd800 && code <= 0xdbff ? MAX_QUOTED_OUTPUT - 1 : MAX_QUOTED_OUTPUT
  return `${output.slice(0, end)}… (${output.length - end} more characters)`
}

function hasNonFinite (value: PyValue): boolean {
  if (value instanceof PyNumber) return !value.finite
  if (Array.isArray(value)) return value.some(hasNonFinite)
  if (value instanceof Map) {
    for (const item of value.values()) if (hasNonFinite(item)) return true
  }
  return false
}

/**
 * Python's `json.loads(final_output)` for the formats that re-serialise the output.
 * `describeDecodeError` builds Kiln's format-specific message from Python's decode error text.
 * We refuse NaN/Infinity/overflowing numbers on purpose: Kiln would write non-standard JSON.
 */
export function parseFinalOutput (output: string, describeDecodeError: (pythonError: string) => string): PyValue {
  let value: PyValue
  try {
    value = parsePythonJson(output)
  } catch (err) {
    if (err instanceof PythonJsonDecodeError) {
      throw new FormatError('OUTPUT_NOT_JSON', describeDecodeError(err.message))
    }
    if (err instanceof PythonJsonValueError) {
      // Python raises these outside JSONDecodeError, so Kiln's wrapper message does not apply.
      throw new FormatError('OUTPUT_NOT_SUPPORTED', err.message)
    }
    throw err
  }
  if (hasNonFinite(value)) {
    throw new FormatError(
      'OUTPUT_NOT_FINITE',
      'Output is not standard JSON: it holds NaN, Infinity or a number too large for a float, ' +
        'which Kiln would write as non-standard JSON tokens'
    )
  }
  return value
}
