import { FormatError } from './errors.js'
import {
  PyNumber,
  PythonJsonDecodeError,
  PythonJsonValueError,
  parsePythonJson,
  type PyValue
} from './python-json.js'
import { type TrainingChat } from './types.js'

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

/** Kiln's chat-formatter messages (since June 2025) for a last message that is not a JSON object. */
export const LAST_MESSAGE_NOT_JSON = 'Last message is not JSON (structured), and this format expects structured data'
export const LAST_MESSAGE_NOT_OBJECT = 'Last message is not a JSON Dictionary (structured data), and this format expects structured_data.'

/**
 * The structured answer of a chat, as the formats that parse it read it. `seed` rules: the output
 * alone, any JSON value, the seed's message (`describeSeedError`). `chat` rules (the later
 * strategies, Kiln's `last_message_structured_content`): the whole last message, which for R1
 * starts with `<think>` and so never parses, and it must be a JSON object.
 */
/*
 * The reasoning-field strategy uses the `chat` rules: it is one of the later strategies, so its
 * answer goes through the same chat-formatter check (Kiln's `last_message_structured_content` reads
 * the last message's `content`, which is the answer alone here: `finalPrefix` is '', the thinking
 * sits in `reasoning_content`). So, unlike R1, a JSON answer parses, and it must be an object.
 */
export function parseAnswer (chat: TrainingChat, describeSeedError: (pythonError: string) => string): PyValue {
  if (chat.outputRules === 'seed') return parseFinalOutput(chat.finalOutput, describeSeedError)
  return parseFinalOutput(chat.finalPrefix + chat.finalOutput, (pythonError) => `${LAST_MESSAGE_NOT_JSON}: ${pythonError}`, true)
}

/**
 * Python's `json.loads(final_output)` for the formats that re-serialise the output.
 * `describeDecodeError` builds Kiln's format-specific message from Python's decode error text.
 * We refuse NaN/Infinity/overflowing numbers on purpose: Kiln would write non-standard JSON.
 * `requireObject`: anything but a JSON object is refused too (Kiln's chat formatter).
 */
export function parseFinalOutput (output: string, describeDecodeError: (pythonError: string) => string, requireObject = false): PyValue {
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
  if (requireObject && !(value instanceof Map)) throw new FormatError('OUTPUT_NOT_OBJECT', LAST_MESSAGE_NOT_OBJECT)
  if (hasNonFinite(value)) {
    throw new FormatError(
      'OUTPUT_NOT_FINITE',
      'Output is not standard JSON: it holds NaN, Infinity or a number too large for a float, ' +
        'which Kiln would write as non-standard JSON tokens'
    )
  }
  return value
}
