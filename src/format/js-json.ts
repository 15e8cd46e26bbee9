import { PyNumber, formatFloat, type PyDumpable } from './python-json.js'

/**
 * Convert a value from JSON.parse (a request body, a run file) into something dumpPythonJson
 * writes. Used for pass-through data such as trace tool calls and tool definitions. JSON.parse
 * has already lost two details Python would keep: `1.0` vs `1`, and the position of integer-like
 * object keys; those fields hold names and strings in practice.
 */
export function fromJsJson (value: unknown): PyDumpable {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    return new PyNumber(Number.isSafeInteger(value) ? String(value) : formatFloat(value), Number.isFinite(value))
  }
  if (Array.isArray(value)) return value.map(fromJsJson)
  if (typeof value === 'object') {
    const result: Record<string, PyDumpable> = {}
    for (const [key, item] of Object.entries(value)) result[key] = fromJsJson(item)
    return result
  }
  // undefined, functions and symbols cannot come from JSON.parse.
  return null
}
