import { describe, expect, it } from 'vitest'
import {
  createLineFormatter,
  exportFileName,
  kilnToolCallId,
  type DataStrategy,
  type DatasetFormat,
  type TaskRunData
} from '../../src/format/index.js'
import { formatErrorOf } from '../helpers/format-errors.js'

type IntermediateOutputs = TaskRunData['intermediate_outputs']

function chatLine (run: TaskRunData, dataStrategy: DataStrategy, thinkingInstructions: string | null, systemMessage = 'S'): string {
  return createLineFormatter({ format: 'openai_chat_jsonl', systemMessage, thinkingInstructions, dataStrategy })(run)
}

/** The openai_chat_jsonl lines of spec section 4's truth table, for S = "S", I = "I", F = "F", TI = "TI". */
const PLAIN = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "F"}]}\n'
const COT_R = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "user", "content": "TI"}, {"role": "assistant", "content": "R"}, {"role": "user", "content": "Considering the above, return a final result."}, {"role": "assistant", "content": "F"}]}\n'
const COT_C = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "user", "content": "TI"}, {"role": "assistant", "content": "C"}, {"role": "user", "content": "Considering the above, return a final result."}, {"role": "assistant", "content": "F"}]}\n'
const COT_EMPTY = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "user", "content": "TI"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "Considering the above, return a final result."}, {"role": "assistant", "content": "F"}]}\n'
const COT_SPACES = '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "user", "content": "TI"}, {"role": "assistant", "content": "   "}, {"role": "user", "content": "Considering the above, return a final result."}, {"role": "assistant", "content": "F"}]}\n'

const TRUTH_TABLE: ReadonlyArray<{
  readonly label: string
  readonly io: IntermediateOutputs
  /** The final_and_intermediate line with TI set. */
  readonly withTi: string
  /** Whether final_and_intermediate with TI None or "" raises. */
  readonly requiresTi: boolean
}> = [
  { label: 'null', io: null, withTi: PLAIN, requiresTi: false },
  { label: '{}', io: {}, withTi: PLAIN, requiresTi: false },
  { label: 'only other keys', io: { notes: 'N', draft: 'D' }, withTi: PLAIN, requiresTi: false },
  { label: '{"reasoning": "R"}', io: { reasoning: 'R' }, withTi: COT_R, requiresTi: true },
  { label: '{"chain_of_thought": "C"}', io: { chain_of_thought: 'C' }, withTi: COT_C, requiresTi: true },
  { label: 'both keys, chain_of_thought first', io: { chain_of_thought: 'C', reasoning: 'R' }, withTi: COT_R, requiresTi: true },
  { label: '{"reasoning": "", "chain_of_thought": "C"}', io: { reasoning: '', chain_of_thought: 'C' }, withTi: COT_C, requiresTi: true },
  { label: '{"reasoning": ""}', io: { reasoning: '' }, withTi: PLAIN, requiresTi: true },
  { label: '{"chain_of_thought": ""}', io: { chain_of_thought: '' }, withTi: COT_EMPTY, requiresTi: true },
  { label: '{"reasoning": "   "}', io: { reasoning: '   ' }, withTi: COT_SPACES, requiresTi: true },
  { label: '{"chain_of_thought": "C"} next to other keys', io: { notes: 'N', chain_of_thought: 'C' }, withTi: COT_C, requiresTi: true }
]

describe('the truth table of spec section 4, as openai_chat_jsonl lines', () => {
  for (const row of TRUTH_TABLE) {
    describe(`intermediate_outputs ${row.label}`, () => {
      const taskRun: TaskRunData = { id: 'run-42', input: 'I', output: { output: 'F' }, intermediate_outputs: row.io }

      it('writes the plain line for final_only whatever the TI (set, None or "")', () => {
        expect(chatLine(taskRun, 'final_only', 'TI')).toBe(PLAIN)
        expect(chatLine(taskRun, 'final_only', null)).toBe(PLAIN)
        expect(chatLine(taskRun, 'final_only', '')).toBe(PLAIN)
      })

      it(`writes the ${row.withTi === PLAIN ? 'plain' : 'COT'} line for final_and_intermediate with TI set`, () => {
        expect(chatLine(taskRun, 'final_and_intermediate', 'TI')).toBe(row.withTi)
      })

      if (row.requiresTi) {
        it('refuses final_and_intermediate with TI None or "", with Kiln\'s message and the run id', () => {
          for (const ti of [null, '']) {
            const err = formatErrorOf(() => chatLine(taskRun, 'final_and_intermediate', ti))
            expect({ name: err.name, code: err.code, message: err.message, runId: err.runId }).toEqual({
              name: 'FormatError',
              code: 'THINKING_INSTRUCTIONS_REQUIRED',
              message: 'Thinking instructions are required when data_strategy is final_and_intermediate',
              runId: 'run-42'
            })
          }
        })
      } else {
        it('writes the plain line for final_and_intermediate with TI None or ""', () => {
          expect(chatLine(taskRun, 'final_and_intermediate', null)).toBe(PLAIN)
          expect(chatLine(taskRun, 'final_and_intermediate', '')).toBe(PLAIN)
        })
      }
    })
  }
})

describe('createLineFormatter', () => {
  it('writes the repaired output instead of the output', () => {
    const taskRun: TaskRunData = { id: 'r', input: 'I', output: { output: 'draft' }, repaired_output: { output: 'F' } }
    expect(chatLine(taskRun, 'final_only', null)).toBe(PLAIN)
  })

  it('writes an empty repaired output rather than falling back to the output', () => {
    const taskRun: TaskRunData = { id: 'r', input: 'I', output: { output: 'draft' }, repaired_output: { output: '' } }
    expect(chatLine(taskRun, 'final_only', null)).toBe(
      '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "I"}, {"role": "assistant", "content": ""}]}\n'
    )
  })

  it('accepts an empty system message', () => {
    const taskRun: TaskRunData = { id: 'r', input: 'I', output: { output: 'F' } }
    expect(chatLine(taskRun, 'final_only', null, '')).toBe(
      '{"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "I"}, {"role": "assistant", "content": "F"}]}\n'
    )
  })

  it('passes a JSON input through verbatim, without re-serialising it', () => {
    const taskRun: TaskRunData = { id: 'r', input: '{"q":  1,"b" :2}', output: { output: 'F' } }
    expect(chatLine(taskRun, 'final_only', null)).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "{\"q\":  1,\"b\" :2}"}, {"role": "assistant", "content": "F"}]}` + '\n'
    )
  })

  it('escapes like Python: \\n \\t \\b \\f \\r, lowercase \\u00XX, and raw non-ASCII, U+2028, U+0085 and DEL', () => {
    const LS = '\u2028'
    const NEL = '\u0085'
    const DEL = '\u007f'
    const taskRun: TaskRunData = {
      id: 'r',
      input: `Line${LS}sep${NEL} é 😀 ${DEL} / \\ "q"\t\u0001\u001f\b\f\r\u000b`,
      output: { output: 'a\nb' }
    }
    const line = chatLine(taskRun, 'final_only', null)
    expect(line).toBe(
      String.raw`{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Line${LS}sep${NEL} é 😀 ${DEL} / \\ \"q\"\t\u0001\u001f\b\f\r\u000b"}, {"role": "assistant", "content": "a\nb"}]}` + '\n'
    )
    // One line: the only raw newline is the terminator.
    expect(line.indexOf('\n')).toBe(line.length - 1)
  })

  it('formats many runs with one formatter, each line on its own', () => {
    const format = createLineFormatter({ format: 'vertex_gemini_1_5', systemMessage: 'S', thinkingInstructions: 'TI', dataStrategy: 'final_and_intermediate' })
    expect(format({ id: 'a', input: 'I1', output: { output: 'F1' } })).toBe(
      '{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "I1"}]}, {"role": "model", "parts": [{"text": "F1"}]}]}\n'
    )
    expect(format({ id: 'b', input: 'I2', output: { output: 'F2' }, intermediate_outputs: { reasoning: 'R2' } })).toBe(
      '{"systemInstruction": {"role": "system", "parts": [{"text": "S"}]}, "contents": [{"role": "user", "parts": [{"text": "I2"}]}, {"role": "user", "parts": [{"text": "TI"}]}, {"role": "model", "parts": [{"text": "R2"}]}, {"role": "user", "parts": [{"text": "Considering the above, return a final result."}]}, {"role": "model", "parts": [{"text": "F2"}]}]}\n'
    )
  })

  it('tags a generator\'s error with the id of the run that caused it', () => {
    const format = createLineFormatter({ format: 'openai_chat_toolcall_jsonl', systemMessage: 'S', thinkingInstructions: null, dataStrategy: 'final_only' })
    expect(format({ id: 'ok-run', input: 'I', output: { output: '{}' } })).toContain('"arguments": "{}"')
    const err = formatErrorOf(() => format({ id: 'bad-run', input: 'I', output: { output: 'oops' } }))
    expect({ code: err.code, message: err.message, runId: err.runId }).toEqual({
      code: 'OUTPUT_NOT_JSON',
      message: 'Invalid JSON in for tool call: Expecting value: line 1 column 1 (char 0)',
      runId: 'bad-run'
    })
  })

  it('refuses a raw lone surrogate in the input for a plaintext format, with Python\'s message and position', () => {
    // "a\ud800b" as the user content: the surrogate is code point 80 of the line
    // ({"messages": [ = 14, the system message object and ", " = 36, then {"role": "user", "content": "a = 30).
    const format = createLineFormatter({ format: 'openai_chat_jsonl', systemMessage: 'S', thinkingInstructions: null, dataStrategy: 'final_only' })
    const err = formatErrorOf(() => format({ id: 'sur', input: 'a\ud800b', output: { output: 'F' } }))
    expect({ code: err.code, message: err.message, runId: err.runId }).toEqual({
      code: 'UNENCODABLE_TEXT',
      message: "'utf-8' codec can't encode character '\\ud800' in position 80: surrogates not allowed",
      runId: 'sur'
    })
  })

  it('reports a run of adjacent lone surrogates as a position range, like Python', () => {
    const format = createLineFormatter({ format: 'vertex_gemini_1_5', systemMessage: 'S', thinkingInstructions: null, dataStrategy: 'final_only' })
    const err = formatErrorOf(() => format({ id: 'sur2', input: 'a\udc00\udc00b', output: { output: 'F' } }))
    expect({ code: err.code, message: err.message }).toEqual({
      code: 'UNENCODABLE_TEXT',
      message: "'utf-8' codec can't encode characters in position 119-120: surrogates not allowed"
    })
  })

  it('refuses a raw lone surrogate in the system message or the thinking too', () => {
    const taskRun: TaskRunData = { id: 'r', input: 'I', output: { output: 'F' }, intermediate_outputs: { reasoning: 'x\udfff' } }
    expect(formatErrorOf(() => chatLine(taskRun, 'final_only', null, '\ud83d')).message).toBe(
      "'utf-8' codec can't encode character '\\ud83d' in position 45: surrogates not allowed"
    )
    expect(formatErrorOf(() => chatLine(taskRun, 'final_and_intermediate', 'TI')).message).toBe(
      "'utf-8' codec can't encode character '\\udfff' in position 154: surrogates not allowed"
    )
  })
})

describe('exportFileName', () => {
  const cases: ReadonlyArray<[string, string, DatasetFormat, string, string]> = [
    ['test_dataset', 'train', 'openai_chat_jsonl', 'final_only', 'test_dataset -- split-train -- format-openai_chat_jsonl -- no-cot.jsonl'],
    ['test_dataset', 'train', 'openai_chat_jsonl', 'final_and_intermediate', 'test_dataset -- split-train -- format-openai_chat_jsonl -- cot.jsonl'],
    ['Support replies v1', 'val', 'vertex_gemini_1_5', 'final_and_intermediate', 'Support replies v1 -- split-val -- format-vertex_gemini_1_5 -- cot.jsonl'],
    ['ds', 'all', 'huggingface_chat_template_toolcall_jsonl', 'final_only', 'ds -- split-all -- format-huggingface_chat_template_toolcall_jsonl -- no-cot.jsonl'],
    // Later Kiln: every thinking strategy is "cot" (THINKING_DATA_STRATEGIES); anything else is no-cot.
    ['ds', 'train', 'openai_chat_jsonl', 'final_and_intermediate_r1_compatible', 'ds -- split-train -- format-openai_chat_jsonl -- cot.jsonl'],
    ['ds', 'train', 'openai_chat_jsonl', 'two_message_cot', 'ds -- split-train -- format-openai_chat_jsonl -- cot.jsonl'],
    ['ds', 'train', 'openai_chat_jsonl', 'something_else', 'ds -- split-train -- format-openai_chat_jsonl -- no-cot.jsonl']
  ]
  for (const [dataset, split, format, strategy, expected] of cases) {
    it(`names ${dataset}/${split}/${format}/${strategy} "${expected}"`, () => {
      expect(exportFileName(dataset, split, format, strategy)).toBe(expected)
    })
  }
})

describe('kilnToolCallId', () => {
  it('returns 9 lowercase hex characters, like uuid4().hex[:9]', () => {
    for (let i = 0; i < 50; i++) expect(kilnToolCallId()).toMatch(/^[0-9a-f]{9}$/)
  })

  it('returns a different id on each call', () => {
    const ids = new Set(Array.from({ length: 50 }, () => kilnToolCallId()))
    expect(ids.size).toBe(50)
  })
})
