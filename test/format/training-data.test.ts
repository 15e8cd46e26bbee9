import { describe, expect, it } from 'vitest'
import {
  COT_FINAL_ANSWER_PROMPT,
  THINKING_INSTRUCTIONS_REQUIRED,
  buildTrainingData,
  hasThinkingTrainingData,
  supportsCot,
  type DataStrategy,
  type TaskRunData,
  type TrainingData
} from '../../src/format/index.js'
import { formatErrorOf } from '../helpers/format-errors.js'

type IntermediateOutputs = TaskRunData['intermediate_outputs']

function run (intermediateOutputs?: IntermediateOutputs, extra: Partial<TaskRunData> = {}): TaskRunData {
  return { id: 'run-7', input: 'I', output: { output: 'F' }, intermediate_outputs: intermediateOutputs, ...extra }
}

describe('constants', () => {
  it('spells the COT final-answer prompt exactly as Kiln, without a trailing newline', () => {
    expect(COT_FINAL_ANSWER_PROMPT).toBe('Considering the above, return a final result.')
  })

  it('spells the thinking-instructions error exactly as Kiln', () => {
    expect(THINKING_INSTRUCTIONS_REQUIRED).toBe('Thinking instructions are required when data_strategy is final_and_intermediate')
  })
})

describe('hasThinkingTrainingData (key presence only, as at the seed)', () => {
  const cases: ReadonlyArray<[string, IntermediateOutputs, boolean]> = [
    ['missing intermediate_outputs', undefined, false],
    ['null', null, false],
    ['{}', {}, false],
    ['other keys only', { notes: 'N', draft: 'D' }, false],
    ['a key that merely contains "reasoning"', { reasoning_summary: 'R' }, false],
    ['a key differing in case', { Reasoning: 'R' }, false],
    ['reasoning', { reasoning: 'R' }, true],
    ['chain_of_thought', { chain_of_thought: 'C' }, true],
    ['an empty reasoning', { reasoning: '' }, true],
    ['an empty chain_of_thought', { chain_of_thought: '' }, true],
    ['chain_of_thought next to other keys', { notes: 'N', chain_of_thought: 'C' }, true]
  ]
  for (const [label, io, expected] of cases) {
    it(`is ${String(expected)} for ${label}`, () => {
      expect(hasThinkingTrainingData(run(io))).toBe(expected)
    })
  }
})

/**
 * Spec section 4 truth table. `thinking` is what Kiln picks (`reasoning or chain_of_thought`) when
 * COT applies; `undefined` means the TI-set cell is plain. `requiresTi` is true when the
 * final_and_intermediate cells with TI None or "" raise.
 */
const TRUTH_TABLE: ReadonlyArray<{
  readonly label: string
  readonly io: IntermediateOutputs
  readonly thinking: string | null
  readonly requiresTi: boolean
}> = [
  { label: 'null', io: null, thinking: null, requiresTi: false },
  { label: 'absent', io: undefined, thinking: null, requiresTi: false },
  { label: '{}', io: {}, thinking: null, requiresTi: false },
  { label: 'only other keys', io: { notes: 'N' }, thinking: null, requiresTi: false },
  { label: '{"reasoning": "R"}', io: { reasoning: 'R' }, thinking: 'R', requiresTi: true },
  { label: '{"chain_of_thought": "C"}', io: { chain_of_thought: 'C' }, thinking: 'C', requiresTi: true },
  { label: 'both keys (reasoning wins)', io: { chain_of_thought: 'C', reasoning: 'R' }, thinking: 'R', requiresTi: true },
  { label: '{"reasoning": "", "chain_of_thought": "C"}', io: { reasoning: '', chain_of_thought: 'C' }, thinking: 'C', requiresTi: true },
  { label: '{"reasoning": ""} (thinking is None, so plain)', io: { reasoning: '' }, thinking: null, requiresTi: true },
  { label: '{"chain_of_thought": ""} (empty thinking)', io: { chain_of_thought: '' }, thinking: '', requiresTi: true },
  { label: '{"reasoning": "", "chain_of_thought": ""}', io: { reasoning: '', chain_of_thought: '' }, thinking: '', requiresTi: true },
  { label: 'whitespace reasoning', io: { reasoning: '   ' }, thinking: '   ', requiresTi: true }
]

describe('buildTrainingData follows Kiln\'s truth table (spec section 4)', () => {
  const tiValues: ReadonlyArray<[string, string | null]> = [['set', 'Think.'], ['None', null], ['""', '']]

  function build (io: IntermediateOutputs, dataStrategy: DataStrategy, thinkingInstructions: string | null): TrainingData {
    return buildTrainingData(run(io), { systemMessage: 'S', thinkingInstructions, dataStrategy })
  }

  for (const row of TRUTH_TABLE) {
    describe(`intermediate_outputs ${row.label}`, () => {
      for (const [tiLabel, ti] of tiValues) {
        it(`is plain for final_only with TI ${tiLabel}, and still carries the TI`, () => {
          expect(build(row.io, 'final_only', ti)).toEqual({
            input: 'I',
            systemMessage: 'S',
            finalOutput: 'F',
            thinking: null,
            thinkingInstructions: ti,
            thinkingFinalAnswerPrompt: null
          })
        })
      }

      it(row.thinking === null
        ? 'is plain for final_and_intermediate with TI set'
        : `is COT with thinking ${JSON.stringify(row.thinking)} for final_and_intermediate with TI set`, () => {
        const data = build(row.io, 'final_and_intermediate', 'Think.')
        expect(data).toEqual({
          input: 'I',
          systemMessage: 'S',
          finalOutput: 'F',
          thinking: row.thinking,
          thinkingInstructions: 'Think.',
          // The prompt is set whenever the run has thinking data, even when the thinking text is None.
          thinkingFinalAnswerPrompt: row.requiresTi ? 'Considering the above, return a final result.' : null
        })
        expect(supportsCot(data)).toBe(row.thinking !== null)
      })

      for (const [tiLabel, ti] of tiValues.slice(1)) {
        if (row.requiresTi) {
          it(`refuses final_and_intermediate with TI ${tiLabel}, naming the run`, () => {
            const err = formatErrorOf(() => build(row.io, 'final_and_intermediate', ti))
            expect({ code: err.code, message: err.message, runId: err.runId }).toEqual({
              code: 'THINKING_INSTRUCTIONS_REQUIRED',
              message: 'Thinking instructions are required when data_strategy is final_and_intermediate',
              runId: 'run-7'
            })
          })
        } else {
          it(`is plain for final_and_intermediate with TI ${tiLabel} (no thinking data, so no check)`, () => {
            const data = build(row.io, 'final_and_intermediate', ti)
            expect(data.thinking).toBeNull()
            expect(data.thinkingFinalAnswerPrompt).toBeNull()
            expect(data.thinkingInstructions).toBe(ti)
            expect(supportsCot(data)).toBe(false)
          })
        }
      }
    })
  }
})

describe('buildTrainingData: final output and pass-through fields', () => {
  const options = { systemMessage: 'S', thinkingInstructions: null, dataStrategy: 'final_only' } as const

  it('uses the repaired output instead of the output when there is one', () => {
    const data = buildTrainingData(run(null, { output: { output: 'draft' }, repaired_output: { output: 'fixed' } }), options)
    expect(data.finalOutput).toBe('fixed')
  })

  it('uses the output when repaired_output is null or absent', () => {
    expect(buildTrainingData(run(null, { output: { output: 'draft' }, repaired_output: null }), options).finalOutput).toBe('draft')
    expect(buildTrainingData(run(null, { output: { output: 'draft' } }), options).finalOutput).toBe('draft')
  })

  it('uses an empty repaired output, because Kiln only checks `is not None`', () => {
    const data = buildTrainingData(run(null, { output: { output: 'draft' }, repaired_output: { output: '' } }), options)
    expect(data.finalOutput).toBe('')
  })

  it('passes the input through verbatim, even when it is JSON with odd spacing', () => {
    expect(buildTrainingData(run(null, { input: '{"q":  1 }' }), options).input).toBe('{"q":  1 }')
  })

  it('accepts an empty system message', () => {
    expect(buildTrainingData(run(null), { ...options, systemMessage: '' }).systemMessage).toBe('')
  })

  it('checks thinking instructions only for a run with thinking data', () => {
    const build = (io: IntermediateOutputs) =>
      buildTrainingData(run(io), { systemMessage: 'S', thinkingInstructions: null, dataStrategy: 'final_and_intermediate' })
    expect(build({ notes: 'N' }).thinking).toBeNull()
    expect(formatErrorOf(() => build({ reasoning: 'R' })).code).toBe('THINKING_INSTRUCTIONS_REQUIRED')
  })
})

describe('supportsCot', () => {
  const base: TrainingData = {
    input: 'I',
    systemMessage: 'S',
    finalOutput: 'F',
    thinking: 'T',
    thinkingInstructions: 'TI',
    thinkingFinalAnswerPrompt: 'P'
  }
  const cases: ReadonlyArray<[string, Partial<TrainingData>, boolean]> = [
    ['all three fields set', {}, true],
    ['all three fields empty strings', { thinking: '', thinkingInstructions: '', thinkingFinalAnswerPrompt: '' }, true],
    ['thinking null', { thinking: null }, false],
    ['thinking instructions null', { thinkingInstructions: null }, false],
    ['final-answer prompt null', { thinkingFinalAnswerPrompt: null }, false]
  ]
  for (const [label, patch, expected] of cases) {
    it(`is ${String(expected)} with ${label}`, () => {
      expect(supportsCot({ ...base, ...patch })).toBe(expected)
    })
  }
})
