import { describe, expect, it } from 'vitest'
import {
  FormatError,
  createLineFormatter,
  type DatasetFormat,
  type FormatErrorCode
} from '../../src/format/index.js'

/**
 * The three formats that parse the final output with Python's json.loads and write it back with
 * json.dumps(ensure_ascii=False), against the three that pass it through as text. Expected lines
 * and Python error texts were checked with python3 3.11.
 */

const PARSING: readonly DatasetFormat[] = [
  'openai_chat_json_schema_jsonl',
  'openai_chat_toolcall_jsonl',
  'huggingface_chat_template_toolcall_jsonl'
]
const PLAINTEXT: readonly DatasetFormat[] = ['openai_chat_jsonl', 'huggingface_chat_template_jsonl', 'vertex_gemini_1_5']

/** One final_only line for S = "S", I = "I" and the given output. */
function lineFor (format: DatasetFormat, output: string, systemMessage = 'S'): string {
  const formatLine = createLineFormatter({
    format,
    systemMessage,
    thinkingInstructions: null,
    dataStrategy: 'final_only',
    randomToolCallId: () => 'abcdef012'
  })
  return formatLine({ id: 'run-1', input: 'I', output: { output } })
}

function errorFor (format: DatasetFormat, output: string, systemMessage = 'S'): { code: FormatErrorCode, message: string, runId: string | undefined } {
  try {
    lineFor(format, output, systemMessage)
  } catch (err) {
    if (err instanceof FormatError) return { code: err.code, message: err.message, runId: err.runId }
    throw err
  }
  throw new Error(`expected ${format} to refuse ${JSON.stringify(output)}`)
}

describe('re-serialisation of the final output', () => {
  it('rewrites {"b":1,"a":[1.0,2E2, 10]} with Python separators and number spelling, keys in their order', () => {
    const output = '{"b":1,"a":[1.0,2E2, 10]}'
    expect(lineFor('openai_chat_json_schema_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"b\": 1, \"a\": [1.0, 200.0, 10]}"}]}` + '\n'
    )
    expect(lineFor('openai_chat_toolcall_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", "arguments": "{\"b\": 1, \"a\": [1.0, 200.0, 10]}"}}]}]}` + '\n'
    )
    expect(lineFor('huggingface_chat_template_toolcall_jsonl', output)).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "task_response", "id": "abcdef012", "arguments": {"b": 1, "a": [1.0, 200.0, 10]}}}]}]}\n'
    )
  })

  it('keeps integer-like keys where they were, where a JS object would move them first', () => {
    const output = '{"10": "ten", "2": "two", "1": "one", "b": 0}'
    expect(lineFor('openai_chat_json_schema_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"10\": \"ten\", \"2\": \"two\", \"1\": \"one\", \"b\": 0}"}]}` + '\n'
    )
    expect(lineFor('openai_chat_toolcall_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", "arguments": "{\"10\": \"ten\", \"2\": \"two\", \"1\": \"one\", \"b\": 0}"}}]}]}` + '\n'
    )
    expect(lineFor('huggingface_chat_template_toolcall_jsonl', output)).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "task_response", "id": "abcdef012", "arguments": {"10": "ten", "2": "two", "1": "one", "b": 0}}}]}]}\n'
    )
  })

  it('accepts any JSON value at the top level: the HF arguments may be a number, a list or a string', () => {
    expect(lineFor('huggingface_chat_template_toolcall_jsonl', '  30.0 \n')).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "task_response", "id": "abcdef012", "arguments": 30.0}}]}]}\n'
    )
    expect(lineFor('huggingface_chat_template_toolcall_jsonl', '[1, "two", null, true]')).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "task_response", "id": "abcdef012", "arguments": [1, "two", null, true]}}]}]}\n'
    )
    expect(lineFor('huggingface_chat_template_toolcall_jsonl', '"hello"')).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "task_response", "id": "abcdef012", "arguments": "hello"}}]}]}\n'
    )
    expect(lineFor('openai_chat_toolcall_jsonl', '"hello"')).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "task_response", "arguments": "\"hello\""}}]}]}` + '\n'
    )
  })

  // [stored output, the json-schema line Kiln writes for it]
  const schemaCases: ReadonlyArray<[string, string, string]> = [
    [
      'drops surrounding JSON whitespace',
      '\n\t {"a": 1} \r\n',
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"a\": 1}"}]}`
    ],
    [
      'keeps the last value of a duplicate key at the first key\'s position',
      '{"a": 1, "b": 2, "a": 3}',
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"a\": 3, \"b\": 2}"}]}`
    ],
    [
      'decodes escapes and joins surrogate pairs, writing non-ASCII raw and control characters escaped',
      String.raw`{"s": "caf\u00e9 \ud83d\ude00 \u0001 \n"}`,
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"s\": \"café 😀 \\u0001 \\n\"}"}]}`
    ],
    [
      'spells numbers like Python: big ints kept, 0.007, 1e+16, underflow 0.0, -0 as 0, -0.0, 650.0',
      '{"n": 123456789012345678901234567890, "f": 7e-3, "g": 1e16, "h": 1e-400, "z": -0, "w": -0.0, "e": 6.5E+2}',
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"n\": 123456789012345678901234567890, \"f\": 0.007, \"g\": 1e+16, \"h\": 0.0, \"z\": 0, \"w\": -0.0, \"e\": 650.0}"}]}`
    ],
    [
      'writes a bare 1E2 as 100.0',
      '1E2',
      '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "100.0"}]}'
    ]
  ]
  for (const [behaviour, output, expected] of schemaCases) {
    it(`${behaviour} (openai_chat_json_schema_jsonl)`, () => {
      expect(lineFor('openai_chat_json_schema_jsonl', output)).toBe(expected + '\n')
    })
  }
})

describe('invalid JSON in the final output', () => {
  // [output, Python's JSONDecodeError text]
  const cases: ReadonlyArray<[string, string]> = [
    ['not json', 'Expecting value: line 1 column 1 (char 0)'],
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['{"a": 1,}', 'Expecting property name enclosed in double quotes: line 1 column 9 (char 8)'],
    ['[1, 2,]', 'Expecting value: line 1 column 7 (char 6)'],
    ["{'a': 1}", 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
    ['{"a": [1, 2}', "Expecting ',' delimiter: line 1 column 12 (char 11)"],
    ['{"a": 1} {"b": 2}', 'Extra data: line 1 column 10 (char 9)'],
    ['{"a": 1}\n// note', 'Extra data: line 2 column 1 (char 9)'],
    ['Sure!\n{"a": 1}', 'Expecting value: line 1 column 1 (char 0)'],
    ['{"a": "line\nbreak"}', 'Invalid control character at: line 1 column 12 (char 11)'],
    ['\ufeff{}', 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)'],
    // Positions count code points: the emoji is one character for Python, two UTF-16 units for JS.
    ['{"😀": 1 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"]
  ]

  for (const [output, pythonError] of cases) {
    it(`quotes Python's error and the whole output for ${JSON.stringify(output)} in the JSON-schema format`, () => {
      expect(errorFor('openai_chat_json_schema_jsonl', output)).toEqual({
        code: 'OUTPUT_NOT_JSON',
        message: `Invalid JSON in JSON Schema training set: ${pythonError}\nOutput Data: ${output}`,
        runId: 'run-1'
      })
    })

    it(`gives Kiln's "in for tool call" message for ${JSON.stringify(output)} in both tool-call formats`, () => {
      for (const format of ['openai_chat_toolcall_jsonl', 'huggingface_chat_template_toolcall_jsonl'] as const) {
        expect(errorFor(format, output)).toEqual({
          code: 'OUTPUT_NOT_JSON',
          message: `Invalid JSON in for tool call: ${pythonError}`,
          runId: 'run-1'
        })
      }
    })
  }

  it('writes the JSON-schema message out in full for a simple case', () => {
    expect(errorFor('openai_chat_json_schema_jsonl', 'Sure!\n{"a": 1}').message).toBe(
      'Invalid JSON in JSON Schema training set: Expecting value: line 1 column 1 (char 0)\nOutput Data: Sure!\n{"a": 1}'
    )
  })

  it('passes the same non-JSON text through in the three plaintext formats', () => {
    expect(lineFor('openai_chat_jsonl', '{"a": 1,}')).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"a\": 1,}"}]}` + '\n'
    )
    expect(lineFor('huggingface_chat_template_jsonl', 'not json')).toBe(
      '{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "not json"}]}\n'
    )
    expect(lineFor('vertex_gemini_1_5', '')).toBe(
      '{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "I"}]}, {"role": "model", "parts": [{"text": ""}]}]}\n'
    )
  })

  it('refuses an integer longer than 4300 digits with Python\'s ValueError text, not the "Invalid JSON" wrapper', () => {
    for (const format of PARSING) {
      expect(errorFor(format, '1'.repeat(4301))).toEqual({
        code: 'OUTPUT_NOT_SUPPORTED',
        message: 'Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit',
        runId: 'run-1'
      })
    }
  })
  it('refuses nesting far beyond Python\'s recursion limit with Python\'s RecursionError text', () => {
    for (const format of PARSING) {
      expect(errorFor(format, '['.repeat(5000) + ']'.repeat(5000))).toEqual({
        code: 'OUTPUT_NOT_SUPPORTED',
        message: 'maximum recursion depth exceeded while decoding a JSON array from a unicode string',
        runId: 'run-1'
      })
      expect(errorFor(format, '{"a": '.repeat(5000) + '1' + '}'.repeat(5000))).toEqual({
        code: 'OUTPUT_NOT_SUPPORTED',
        message: 'maximum recursion depth exceeded while decoding a JSON object from a unicode string',
        runId: 'run-1'
      })
    }
  })

  it('checks the thinking instructions before parsing the output, as Kiln builds the example first', () => {
    const formatLine = createLineFormatter({
      format: 'openai_chat_json_schema_jsonl',
      systemMessage: 'S',
      thinkingInstructions: null,
      dataStrategy: 'final_and_intermediate'
    })
    let caught: unknown
    try {
      formatLine({ id: 'both-bad', input: 'I', output: { output: 'not json' }, intermediate_outputs: { reasoning: 'R' } })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(FormatError)
    expect((caught as FormatError).code).toBe('THINKING_INSTRUCTIONS_REQUIRED')
  })
})

describe('non-finite numbers (NaN, Infinity, overflowing literals)', () => {
  const outputs = ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '{"a": [1, {"b": NaN}]}', '{"score": NaN, "max": 1e400, "min": -Infinity}']

  for (const output of outputs) {
    it(`refuses ${output} as OUTPUT_NOT_FINITE in the three parsing formats`, () => {
      for (const format of PARSING) {
        const err = errorFor(format, output)
        expect({ format, code: err.code, runId: err.runId }).toEqual({ format, code: 'OUTPUT_NOT_FINITE', runId: 'run-1' })
      }
    })
  }

  it('passes the text through untouched in the three plaintext formats (1e400 stays 1e400)', () => {
    const output = '{"score": NaN, "max": 1e400, "min": -Infinity}'
    expect(lineFor('openai_chat_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"score\": NaN, \"max\": 1e400, \"min\": -Infinity}"}]}` + '\n'
    )
    expect(lineFor('huggingface_chat_template_jsonl', output)).toBe(
      String.raw`{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "{\"score\": NaN, \"max\": 1e400, \"min\": -Infinity}"}]}` + '\n'
    )
    expect(lineFor('vertex_gemini_1_5', output)).toBe(
      String.raw`{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "I"}]}, {"role": "model", "parts": [{"text": "{\"score\": NaN, \"max\": 1e400, \"min\": -Infinity}"}]}]}` + '\n'
    )
  })

  it('accepts 1e-400, which underflows to a finite 0.0', () => {
    expect(lineFor('openai_chat_json_schema_jsonl', '1e-400')).toBe(
      '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "0.0"}]}\n'
    )
  })
})

describe('a lone surrogate escape inside a JSON output', () => {
  // The output is the JSON text "\ud800" (8 characters). Parsed, it is one lone surrogate, which
  // Python writes raw and then cannot encode as UTF-8. Position in the json-schema line, by hand:
  //   {"messages": [                                     14 characters   -> 14
  //   {"role": "system", "content": "S"},<space>         34 + 2          -> 50
  //   {"role": "user", "content": "I"},<space>           32 + 2          -> 84
  //   {"role": "assistant", "content": "\"               36              -> 120
  // so the surrogate is character 120.
  const output = String.raw`"\ud800"`

  it('is refused with Python\'s exact UnicodeEncodeError message, position in the written line', () => {
    expect(errorFor('openai_chat_json_schema_jsonl', output)).toEqual({
      code: 'UNENCODABLE_TEXT',
      message: "'utf-8' codec can't encode character '\\ud800' in position 120: surrogates not allowed",
      runId: 'run-1'
    })
    expect(errorFor('openai_chat_toolcall_jsonl', output)).toEqual({
      code: 'UNENCODABLE_TEXT',
      message: "'utf-8' codec can't encode character '\\ud800' in position 229: surrogates not allowed",
      runId: 'run-1'
    })
    expect(errorFor('huggingface_chat_template_toolcall_jsonl', output)).toEqual({
      code: 'UNENCODABLE_TEXT',
      message: "'utf-8' codec can't encode character '\\ud800' in position 218: surrogates not allowed",
      runId: 'run-1'
    })
  })

  it('counts an astral character before it as one position, as Python does', () => {
    // Same line with S = "😀": still 120 code points, though 121 UTF-16 units.
    expect(errorFor('openai_chat_json_schema_jsonl', output, '😀').message).toBe(
      "'utf-8' codec can't encode character '\\ud800' in position 120: surrogates not allowed"
    )
  })

  it('reports the position after the re-serialisation escapes, for a nested low surrogate', () => {
    const nested = String.raw`{"k": "ab\udc00"}`
    expect(errorFor('openai_chat_json_schema_jsonl', nested).message).toBe(
      "'utf-8' codec can't encode character '\\udc00' in position 130: surrogates not allowed"
    )
    expect(errorFor('openai_chat_toolcall_jsonl', nested).message).toBe(
      "'utf-8' codec can't encode character '\\udc00' in position 239: surrogates not allowed"
    )
    expect(errorFor('huggingface_chat_template_toolcall_jsonl', nested).message).toBe(
      "'utf-8' codec can't encode character '\\udc00' in position 226: surrogates not allowed"
    )
  })

  it('is harmless escaped text in the three plaintext formats', () => {
    expect(lineFor('openai_chat_jsonl', output)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "\"\\ud800\""}]}` + '\n'
    )
    expect(lineFor('huggingface_chat_template_jsonl', output)).toBe(
      String.raw`{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "\"\\ud800\""}]}` + '\n'
    )
    expect(lineFor('vertex_gemini_1_5', output)).toBe(
      String.raw`{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "I"}]}, {"role": "model", "parts": [{"text": "\"\\ud800\""}]}]}` + '\n'
    )
  })

  it('refuses a raw lone surrogate in the output for the plaintext formats too', () => {
    for (const format of PLAINTEXT) {
      expect(errorFor(format, 'x\ud800').code).toBe('UNENCODABLE_TEXT')
    }
  })
})

describe('outputs at the edge of the nesting limit', () => {
  it('are refused with a FormatError naming the run when the wrapped HF line crosses the limit', async () => {
    const { createLineFormatter, FormatError } = await import('../../src/format/index.js')
    const format = createLineFormatter({
      format: 'huggingface_chat_template_toolcall_jsonl',
      dataStrategy: 'final_only',
      systemMessage: 'S',
      thinkingInstructions: null,
      randomToolCallId: () => 'abcdef012'
    })
    const deep = '['.repeat(988) + ']'.repeat(988)
    let thrown: unknown
    try {
      format({ id: 'deep-run', input: 'i', output: { output: deep } })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(FormatError)
    expect(thrown).toMatchObject({ code: 'OUTPUT_NOT_SUPPORTED', runId: 'deep-run' })
  })

  it('quote a huge invalid output without splitting a surrogate pair', async () => {
    const { quoteOutput } = await import('../../src/format/parse-output.js')
    const quoted = quoteOutput('a' + '😀'.repeat(40000))
    expect(quoted.isWellFormed()).toBe(true)
    expect(quoted).toMatch(/… \(\d+ more characters\)$/)
  })
})
