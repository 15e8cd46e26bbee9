import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { DATA_ERRORS } from '../../src/errors.js'
import { ExportDataError, prepareExport } from '../../src/export/prepare-export.js'
import { resolveFormat, type DataStrategy, type DatasetFormat, type DatasetSplitData, type TaskRunData } from '../../src/format/index.js'
import { loadReferenceData } from '../../src/validate/reference-files.js'
import { inlineSource } from '../../src/source/inline.js'
import { type DatasetSource } from '../../src/source/types.js'
import {
  exportErrorCode,
  loadTokenCounter,
  profileForFormat,
  resolveProfile,
  splitRole,
  validateDataset,
  type ProfileOverrides,
  type ProviderProfileName,
  type ReferenceData,
  type TextTokenCounter,
  type ValidationParams,
  type ValidationReport
} from '../../src/validate/index.js'
import { WorkBudgetExceededError } from '../../src/validate/work-budget.js'
import { CONFORMANCE_DIR, loadFixtures } from '../helpers/conformance.js'
import { kilnRun, kilnSplit } from '../helpers/kiln-data.js'

let data: ReferenceData
let o200k: TextTokenCounter
beforeAll(async () => {
  data = await loadReferenceData()
  o200k = await loadTokenCounter('o200k_base')
})

interface InlineFile { dataset_split: DatasetSplitData, task_runs: TaskRunData[] }

/** A conformance fixture's inline dataset (fixture f1 or f2, key as in its manifest). */
function fixtureSource (fixture: string, key: string): DatasetSource {
  const inline = JSON.parse(readFileSync(join(CONFORMANCE_DIR, fixture, 'inline', `${key}.json`), 'utf8')) as InlineFile
  return inlineSource(inline.dataset_split, inline.task_runs)
}

function runsSource (runs: Array<Record<string, unknown>>, splitContents: Record<string, string[]>): DatasetSource {
  const split = kilnSplit('100000000001', splitContents) as unknown as DatasetSplitData
  return inlineSource(split, runs as unknown as TaskRunData[])
}

interface Options extends ProfileOverrides {
  readonly profile?: ProviderProfileName
  readonly countTokens?: TextTokenCounter
  readonly maxProblemsPerSplit?: number
  readonly signal?: AbortSignal
  readonly maxWorkChars?: number
}

async function validate (source: DatasetSource, params: Partial<ValidationParams> & { format: DatasetFormat }, options: Options = {}): Promise<ValidationReport> {
  const profile = resolveProfile(data, options.profile ?? profileForFormat(data.profiles, params.format), options)
  return await validateDataset(source, { dataStrategy: 'final_only', systemMessage: 'S', thinkingInstructions: null, ...params }, {
    profile,
    countTokens: options.countTokens ?? o200k,
    ...(options.maxProblemsPerSplit === undefined ? {} : { maxProblemsPerSplit: options.maxProblemsPerSplit }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.maxWorkChars === undefined ? {} : { maxWorkChars: options.maxWorkChars })
  })
}

/** `code run line` of every problem of a split, in report order. */
function problems (report: ValidationReport, split: string): string[] {
  const found = report.splits.find((s) => s.name === split)
  if (found === undefined) throw new Error(`no split ${split} in the report`)
  return found.problems.map((p) => `${p.code} ${p.run_id ?? '-'} ${p.line ?? '-'}`)
}

const F1 = 'f1_support_replies'
const F2 = 'f2_recipe_extraction'

describe('the validation report on the conformance fixtures', () => {
  it('names every run whose plaintext output is not JSON, with the export\'s code and Kiln\'s message, in every split', async () => {
    const report = await validate(fixtureSource(F1, 'main'), { format: 'openai_chat_json_schema_jsonl' })
    expect(report.splits.map((s) => s.name)).toEqual(['train', 'test', 'val'])
    expect(problems(report, 'train')).toEqual([
      'KEX_OUTPUT_NOT_JSON 373095127898 1',
      'RUN_IN_SEVERAL_SPLITS 373095127898 1',
      'KEX_OUTPUT_NOT_JSON 238949364214 2',
      'KEX_OUTPUT_NOT_JSON 130396710776 3',
      'KEX_OUTPUT_NOT_JSON 257948613097 4',
      'KEX_OUTPUT_NOT_JSON 176088407813 5',
      'KEX_OUTPUT_NOT_JSON 675869224270 6'
    ])
    const train = report.splits[0]
    expect(train?.problems[0]?.message).toMatch(/^Invalid JSON in JSON Schema training set: Expecting value: line 1 column 1 \(char 0\)\nOutput Data: I'm/)
    expect(train).toMatchObject({ status: 'errors', exportable: false, run_count: 6, line_count: 0, tokens: null, error_count: 6, warning_count: 1 })
    expect(problems(report, 'test')).toEqual([
      'KEX_OUTPUT_NOT_JSON 246239915318 1',
      'KEX_OUTPUT_NOT_JSON 908066604992 2',
      'KEX_OUTPUT_NOT_JSON 373095127898 3',
      'RUN_IN_SEVERAL_SPLITS 373095127898 3'
    ])
    expect(problems(report, 'val').every((p) => p.startsWith('KEX_OUTPUT_NOT_JSON'))).toBe(true)
    expect(report.status).toBe('errors')
  })

  it('names each run with thinking data when thinking instructions are missing, and no other', async () => {
    const report = await validate(fixtureSource(F1, 'main'), { format: 'openai_chat_jsonl', dataStrategy: 'final_and_intermediate', splitName: 'train' })
    expect(problems(report, 'train').filter((p) => p.startsWith('KEX_'))).toEqual([
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 238949364214 2',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 130396710776 3',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 257948613097 4',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 176088407813 5',
      'KEX_THINKING_INSTRUCTIONS_REQUIRED 675869224270 6'
    ])
    expect(report.splits[0]?.problems[2]?.message).toBe('Thinking instructions are required when data_strategy is final_and_intermediate')
    // The run without thinking data still formats and is counted.
    expect(report.splits[0]).toMatchObject({ line_count: 1, tokens: { examples: 1 } })
  })

  it('names a deleted run at its line, and carries on with the others', async () => {
    const report = await validate(fixtureSource(F1, 'stale'), { format: 'openai_chat_jsonl' })
    expect(problems(report, 'train')).toEqual(['KEX_TASK_RUN_NOT_FOUND 152956569114 2'])
    expect(report.splits[0]?.problems[0]?.message).toBe('Task run 152956569114 not found. This is required by this dataset.')
    expect(report.splits[0]).toMatchObject({ run_count: 3, line_count: 2, exportable: false })
    const missingFirst = await validate(fixtureSource(F2, 'missing_first'), { format: 'openai_chat_json_schema_jsonl' })
    expect(problems(missingFirst, 'all')).toEqual(['TOO_FEW_TRAINING_EXAMPLES - -', 'KEX_TASK_RUN_NOT_FOUND 141469344523 1'])
  })

  it('names a run listed twice in a split', async () => {
    const report = await validate(fixtureSource(F1, 'jsonish'), { format: 'openai_chat_jsonl' })
    expect(problems(report, 'all')).toEqual(['DUPLICATE_RUN_ID 254274367517 5'])
    expect(report.splits[0]?.problems[0]?.message).toBe('Run 254274367517 is listed again (first at line 1): the export repeats its line')
    // The repeated line is in the file, so it is counted.
    expect(report.splits[0]).toMatchObject({ run_count: 5, line_count: 5, exportable: true, status: 'warnings' })
  })

  it('refuses an empty training split', async () => {
    const report = await validate(fixtureSource(F1, 'empty'), { format: 'huggingface_chat_template_jsonl' })
    expect(report.splits[0]?.problems).toEqual([{ run_id: null, line: null, severity: 'error', code: 'EMPTY_SPLIT', message: 'Split all lists no runs' }])
    expect(report.splits[0]).toMatchObject({ tokens: null, cost: { billed_tokens: 0 } })
  })

  it('names the corrupted, non-finite and unencodable outputs of f2', async () => {
    const badJson = await validate(fixtureSource(F2, 'bad_json'), { format: 'openai_chat_json_schema_jsonl' })
    expect(problems(badJson, 'train').filter((p) => p.startsWith('KEX_'))).toEqual(['KEX_OUTPUT_NOT_JSON 286234271004 2'])
    const nonFinite = await validate(fixtureSource(F2, 'nonfinite'), { format: 'openai_chat_toolcall_jsonl' })
    expect(problems(nonFinite, 'all').filter((p) => p.startsWith('KEX_'))).toEqual(['KEX_OUTPUT_NOT_FINITE 262023678252 1'])
    const loneSurrogate = await validate(fixtureSource(F2, 'lone_surrogate'), { format: 'huggingface_chat_template_toolcall_jsonl' })
    expect(problems(loneSurrogate, 'all').filter((p) => p.startsWith('KEX_'))).toEqual(['KEX_UNENCODABLE_TEXT 273350966418 1'])
  })

  it('checks the provider\'s rules on the exact lines: HF tool-call arguments must be objects', async () => {
    const report = await validate(fixtureSource(F1, 'jsonish'), { format: 'huggingface_chat_template_toolcall_jsonl' })
    // A JSON string literal, a list and a number become the arguments; the repeated run is reported once.
    expect(problems(report, 'all')).toEqual([
      'HF_TOOL_ARGUMENTS_NOT_OBJECT 189754966107 2',
      'HF_TOOL_ARGUMENTS_NOT_OBJECT 189070996852 3',
      'HF_TOOL_ARGUMENTS_NOT_OBJECT 835512775150 4',
      'DUPLICATE_RUN_ID 254274367517 5'
    ])
  })

  it('names export errors with the codes the export answers with', () => {
    for (const [code, answer] of Object.entries(DATA_ERRORS)) expect(exportErrorCode(code as keyof typeof DATA_ERRORS)).toBe(answer.code)
  })

  it('reports exactly the problems the export refuses with, for every conformance case', async () => {
    let compared = 0
    for (const fixture of loadFixtures()) {
      for (const testCase of fixture.cases) {
        const format = resolveFormat(testCase.format)
        if (testCase.case_id.startsWith('extra.') || format === undefined) continue
        const key = testCase.dataset_split_key
        const params = {
          splitName: testCase.split_name,
          format,
          dataStrategy: testCase.data_strategy as DataStrategy,
          systemMessage: testCase.system_message,
          thinkingInstructions: testCase.thinking_instructions
        }
        let exported: string[] = []
        try {
          const prepared = await prepareExport(fixtureSource(fixture.name, key), params)
          for await (const chunk of prepared.chunks) expect(chunk).toBeInstanceOf(Buffer)
        } catch (err) {
          if (!(err instanceof ExportDataError)) throw err
          exported = err.problems.map((p) => `KEX_${p.code} ${p.runId} ${p.message}`)
        }
        const report = await validate(fixtureSource(fixture.name, key), params)
        const reported = report.splits[0]?.problems.filter((p) => p.code.startsWith('KEX_')).map((p) => `${p.code} ${p.run_id ?? '-'} ${p.message}`)
        expect(reported, testCase.case_id).toEqual(exported)
        expect(report.splits[0]?.exportable, testCase.case_id).toBe(exported.length === 0)
        compared++
      }
    }
    expect(compared).toBeGreaterThan(300)
  })
})

describe('the data checks', () => {
  it('name identical inputs with different outputs, and empty inputs and outputs', async () => {
    const runs = [
      kilnRun('1', { input: 'Same question', output: 'Answer A' }),
      kilnRun('2', { input: 'Same question', output: 'Answer B' }),
      kilnRun('3', { input: 'Same question', output: 'Wrong', repaired: 'Answer A' }),
      kilnRun('4', { input: ' ', output: '\n' }),
      kilnRun('5', { output: '', repaired: 'fixed' })
    ]
    const report = await validate(runsSource(runs, { train: ['1', '2', '3', '4', '5'] }), { format: 'huggingface_chat_template_jsonl' })
    expect(problems(report, 'train')).toEqual([
      'CONFLICTING_OUTPUTS 2 2',
      'EMPTY_INPUT 4 4',
      'EMPTY_OUTPUT 4 4'
    ])
    expect(report.splits[0]?.problems[0]?.message).toBe('Run 2 has the same input as run 1 (line 1) but a different output')
    expect(report.splits[0]).toMatchObject({ status: 'warnings', error_count: 0, warning_count: 3 })
  })

  it('name a run that is in two splits, in both', async () => {
    const runs = [kilnRun('1'), kilnRun('2')]
    const report = await validate(runsSource(runs, { train: ['1', '2'], validation: ['2'] }), { format: 'huggingface_chat_template_jsonl' })
    expect(problems(report, 'train')).toEqual(['RUN_IN_SEVERAL_SPLITS 2 2'])
    expect(problems(report, 'validation')).toEqual(['RUN_IN_SEVERAL_SPLITS 2 1'])
    expect(report.splits[1]?.problems[0]?.message).toBe('Run 2 is also in split train: the same example in two splits leaks between training and evaluation')
  })

  it('find leakage into a split that is not validated', async () => {
    const runs = [kilnRun('1'), kilnRun('2')]
    const report = await validate(runsSource(runs, { train: ['1', '2'], test: ['1'] }), { format: 'huggingface_chat_template_jsonl', splitName: 'train' })
    expect(report.splits.map((s) => s.name)).toEqual(['train'])
    expect(problems(report, 'train')).toEqual(['RUN_IN_SEVERAL_SPLITS 1 1'])
  })

  it('keep the first problems of a split but count them all', async () => {
    const report = await validate(runsSource([], { train: ['a', 'b', 'c', 'd', 'e'] }), { format: 'huggingface_chat_template_jsonl' }, { maxProblemsPerSplit: 3 })
    expect(problems(report, 'train')).toEqual(['KEX_TASK_RUN_NOT_FOUND a 1', 'KEX_TASK_RUN_NOT_FOUND b 2', 'KEX_TASK_RUN_NOT_FOUND c 3'])
    expect(report.splits[0]).toMatchObject({ problems_truncated: true, error_count: 5, problem_counts: { KEX_TASK_RUN_NOT_FOUND: 5 } })
  })
})

describe('tokens, limits and cost', () => {
  /** One token per character: the counts below add up by hand. */
  const perCharacter = (text: string): number => text.length

  it('count each line\'s messages the cookbook\'s way', async () => {
    // system "S" (1) + role (6) + 3; user "input of 1" (10) + role (4) + 3; assistant "output of 1" (11) + role (9) + 3; priming 3 = 53
    const report = await validate(runsSource([kilnRun('1')], { train: ['1'] }), { format: 'openai_chat_jsonl' }, { countTokens: perCharacter, epochs: 2, pricePerMillionTokens: 10 })
    expect(report.splits[0]?.tokens).toEqual({ tokenizer: 'o200k_base', examples: 1, total: 53, min: 53, mean: 53, p50: 53, p95: 53, max: 53, limit: null, over_limit: 0 })
    // 53 tokens x 2 epochs x 10 per million = 0.00106
    expect(report.splits[0]?.cost).toMatchObject({ billed_tokens_per_epoch: 53, epochs: 2, billed_tokens: 106, estimated_cost: 0.00106 })
    expect(report.estimated_cost).toBe(0.00106)
  })

  it('flag examples over the limit and bill them only up to it', async () => {
    const runs = [kilnRun('1'), kilnRun('2', { output: 'a much longer output than the others' })]
    const report = await validate(runsSource(runs, { train: ['1', '2'] }), { format: 'openai_chat_jsonl' }, { countTokens: perCharacter, maxTokensPerExample: 60, epochs: 1 })
    expect(problems(report, 'train')).toEqual(['TOO_FEW_TRAINING_EXAMPLES - -', 'EXAMPLE_OVER_TOKEN_LIMIT 2 2'])
    expect(report.splits[0]?.problems[0]?.message).toBe('2 examples: Fireworks AI managed supervised fine-tuning (OpenAI-compatible chat) needs at least 3')
    expect(report.splits[0]?.problems[1]).toMatchObject({ severity: 'warning', message: 'Run 2: about 78 tokens, over the limit of 60 per example (qwen3-8b); the provider may reject or truncate it' })
    expect(report.splits[0]?.cost).toMatchObject({ billed_tokens_per_epoch: 53 + 60 })
    expect(report.splits[0]?.tokens).toMatchObject({ over_limit: 1, limit: 60 })
  })

  it('apply Vertex\'s validation-set limit to validation splits only', async () => {
    const ids = Array.from({ length: 5001 }, (_, i) => String(i))
    const runs = ids.map((id) => kilnRun(id, { input: `question ${id}` }))
    const report = await validate(runsSource(runs, { validation: ids, test: ids }), { format: 'vertex_gemini_1_5' }, { countTokens: perCharacter })
    expect(problems(report, 'validation').filter((p) => !p.startsWith('RUN_IN_SEVERAL_SPLITS'))).toEqual(['TOO_MANY_VALIDATION_EXAMPLES - -'])
    expect(report.splits[0]?.problems[0]?.message).toBe('5,001 examples: Vertex AI (Gemini Enterprise Agent Platform) Gemini supervised tuning accepts at most 5000 validation examples for gemini-3.5-flash')
    expect(problems(report, 'test').filter((p) => !p.startsWith('RUN_IN_SEVERAL_SPLITS'))).toEqual([])
    expect(report.splits.map((s) => [s.role, s.cost])).toEqual([['validation', null], ['test', null]])
    expect(report.estimated_cost).toBeNull()
  })

  it('warn under the recommended size and answer no cost without a price', async () => {
    const report = await validate(runsSource([kilnRun('1')], { train: ['1'] }), { format: 'vertex_gemini_1_5' })
    expect(problems(report, 'train')).toEqual(['FEW_TRAINING_EXAMPLES - -'])
    expect(report.splits[0]?.cost).toMatchObject({ epochs: 3, epochs_source: 'profile_default', price_per_million_tokens: null, estimated_cost: null })
    expect(report.notes).toContain('No price for this model: send price_per_million_tokens for a cost estimate.')
  })
})

describe('the new provider profiles', () => {
  const runs = Array.from({ length: 4 }, (_, i) => kilnRun(String(i + 1), { intermediate: { chain_of_thought: `thought ${i + 1}` } }))
  const ids = runs.map((run) => String(run.id))

  it('warn in every split when the profile is closing and the model goes away, with their dates, and stay free of errors', async () => {
    const report = await validate(runsSource(runs, { train: ids.slice(0, 2), test: ids.slice(2) }), { format: 'openai_chat_jsonl' }, { profile: 'openai' })
    for (const split of ['train', 'test']) expect(problems(report, split).filter((p) => !p.startsWith('TOO_FEW'))).toEqual(['PROFILE_CLOSING - -', 'MODEL_CLOSING - -'])
    expect(report.splits[1]).toMatchObject({ status: 'warnings', error_count: 0, warning_count: 2 })
    expect(report.splits[1]?.problems[0]?.message).toMatch(/^OpenAI supervised fine-tuning \(chat\) is closing \(announced 2026-05-07; no new jobs after 2027-01-06\): /)
    expect(report.provider_profile).toMatchObject({ name: 'openai', status: 'closing', models_checked_on: '2026-12-05' })
    const retired = await validate(runsSource(runs, { test: ids }), { format: 'vertex_gemini_1_5' }, { model: 'gemini-2.5-pro' })
    expect(retired.splits[0]?.problems.map((p) => [p.severity, p.code, p.message])).toEqual([
      ['warning', 'MODEL_RETIRED', 'gemini-2.5-pro was retired on 2026-10-16; pick a current model (GET /validation/profiles): Replaced by Gemini 3.5 Flash.']
    ])
  })

  it('check Fireworks\' example count both ways: at least 3, at most max_training_examples', async () => {
    expect(problems(await validate(runsSource(runs, { train: ids.slice(0, 2) }), { format: 'openai_chat_jsonl' }), 'train')).toEqual(['TOO_FEW_TRAINING_EXAMPLES - -'])
    expect(problems(await validate(runsSource(runs, { train: ids.slice(0, 3) }), { format: 'openai_chat_jsonl' }), 'train')).toEqual([])
    const fewer: ReferenceData = structuredClone(data)
    fewer.profiles.profiles.fireworks.max_training_examples = 3
    const profile = resolveProfile(fewer, 'fireworks')
    const report = await validateDataset(runsSource(runs, { train: ids }), { format: 'openai_chat_jsonl', dataStrategy: 'final_only', systemMessage: 'S', thinkingInstructions: null }, { profile, countTokens: o200k })
    expect(report.splits[0]?.problems).toEqual([{
      run_id: null, line: null, severity: 'error', code: 'TOO_MANY_TRAINING_EXAMPLES', message: '4 examples: Fireworks AI managed supervised fine-tuning (OpenAI-compatible chat) accepts at most 3 examples'
    }])
  })

  it('check Together\'s turn order on the exact lines: Kiln\'s thinking instructions are a second user turn', async () => {
    const params = { format: 'openai_chat_jsonl', dataStrategy: 'final_and_intermediate', thinkingInstructions: 'Think.' } as const
    const report = await validate(runsSource(runs, { train: ids }), params, { profile: 'together' })
    expect(problems(report, 'train')).toEqual(['FEW_TRAINING_EXAMPLES - -', ...ids.map((id, i) => `TOGETHER_ROLE_ORDER ${id} ${i + 1}`)])
    expect(report.splits[0]?.problems[1]?.message).toBe('messages[2] is user after user: a conversation starts with system or user, then alternates user and assistant (tool messages only after an assistant\'s tool_calls)')
    // Fireworks takes the same lines.
    expect(problems(await validate(runsSource(runs, { train: ids }), params), 'train')).toEqual([])
  })
})

describe('the request', () => {
  it('is refused as the export refuses it (an unknown split); what Kiln refuses per run is reported per run', async () => {
    const source = runsSource([kilnRun('1')], { train: ['1'] })
    await expect(validate(source, { format: 'openai_chat_jsonl', splitName: 'Train' })).rejects.toMatchObject({ code: 'SPLIT_NOT_FOUND', message: expect.stringMatching(/^Split Train not found in dataset\b/) })
    const report = await validate(source, { format: 'vertex_gemini_1_5', dataStrategy: 'final_and_intermediate_r1_compatible' })
    expect(report.splits[0]?.problems.filter((p) => p.run_id !== null)).toMatchObject([{ run_id: '1', line: 1, severity: 'error', code: 'KEX_THINKING_DATA_REQUIRED' }])
  })

  it('warns about the runs Kiln leaves out of fine-tune data, and reports mixed tool sets', async () => {
    const runs = [
      kilnRun('1', { extra: { parent_task_run_id: null } }),
      kilnRun('2', { extra: { eval_source: { eval_id: 'e1' } } }),
      kilnRun('3', { extra: { parent_task_run_id: '1' } }),
      kilnRun('4', { tools: ['kiln_tool::add_numbers'] })
    ]
    const report = await validate(runsSource(runs, { train: ['1', '2', '3', '4'] }), { format: 'openai_chat_jsonl' })
    const split = report.splits[0]
    expect(split?.exportable).toBe(false)
    // (The profile's minimum number of examples is a split-wide error too.)
    expect(split?.problems.filter((p) => p.code !== 'TOO_FEW_TRAINING_EXAMPLES').map((p) => [p.run_id, p.line, p.severity, p.code])).toEqual([
      [null, null, 'error', 'KEX_MIXED_TOOL_SETS'],
      ['1', 1, 'warning', 'MULTITURN_PARENT_RUN'],
      ['2', 2, 'warning', 'EVAL_GENERATED_RUN']
    ])
    expect(split?.problems.find((p) => p.code === 'KEX_MIXED_TOOL_SETS')?.message).toContain('Dataset contains mixed tool/skill selections and cannot be exported: run 1 was made with no tools, run 4 with tools kiln_tool::add_numbers.')
    // With the request's tools, the runs' sets do not matter.
    const withTools = await validate(runsSource(runs, { train: ['1', '4'] }), { format: 'openai_chat_jsonl', tools: [] })
    expect(withTools.splits[0]?.exportable).toBe(true)
  })

  it('stops when its signal aborts', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(validate(runsSource([kilnRun('1')], { train: ['1'] }), { format: 'openai_chat_jsonl' }, { signal: controller.signal })).rejects.toThrow()
  })

  it('takes split roles from split names', () => {
    expect(['train', 'all', 'training_v2', 'values', 'val', 'validation', 'dev', 'test', 'Test', 'eval', 'holdout'].map(splitRole)).toEqual([
      'training', 'training', 'training', 'training', 'validation', 'validation', 'validation', 'test', 'test', 'test', 'test'
    ])
  })
})

describe('the work a report does', () => {
  /** o200k, remembering every text it was asked to count. */
  const spy = (): { count: TextTokenCounter, texts: string[] } => {
    const texts: string[] = []
    return { texts, count: (text) => { texts.push(text); return o200k(text) } }
  }
  const system = 'You answer in one short line, politely. '.repeat(250)

  it('checks a run listed again once, and tokenizes a text met again (the system message) once', async () => {
    const runs = [kilnRun('1'), ...Array.from({ length: 9 }, (_, i) => kilnRun(String(i + 2)))]
    const ids = [...Array(50).fill('1'), ...runs.slice(1).map((run) => String(run.id)), 'gone', 'gone']
    const counter = spy()
    const report = await validate(runsSource(runs, { train: ids }), { format: 'openai_chat_jsonl', systemMessage: system }, { countTokens: counter.count })
    expect(counter.texts.filter((text) => text === system)).toHaveLength(1)
    const train = report.splits[0]
    expect(train).toMatchObject({ run_count: 61, line_count: 59, exportable: false })
    expect(train?.problem_counts).toMatchObject({ DUPLICATE_RUN_ID: 50, KEX_TASK_RUN_NOT_FOUND: 2 })
    // A repeated line counts as many tokens as its first, and a repeated missing run is named again, with its message.
    const single = await validate(runsSource([kilnRun('1')], { train: ['1'] }), { format: 'openai_chat_jsonl', systemMessage: system })
    expect(train?.tokens?.max).toBe(single.splits[0]?.tokens?.total)
    expect(train?.tokens?.min).toBe(single.splits[0]?.tokens?.total)
    const gone = train?.problems.filter((p) => p.code === 'KEX_TASK_RUN_NOT_FOUND')
    expect(gone?.map((p) => [p.line, p.message])).toEqual([[60, 'Task run gone not found. This is required by this dataset.'], [61, 'Task run gone not found. This is required by this dataset.']])
  })

  it('refuses up front when the system message alone, on every line, is over maxWorkChars', async () => {
    const counter = spy()
    const runs = Array.from({ length: 10 }, (_, i) => kilnRun(String(i + 1)))
    const refused = validate(runsSource(runs, { train: runs.map((run) => String(run.id)) }), { format: 'openai_chat_jsonl', systemMessage: system },
      { countTokens: counter.count, maxWorkChars: 50_000 })
    await expect(refused).rejects.toBeInstanceOf(WorkBudgetExceededError)
    await expect(refused).rejects.toThrow('The system message (10,000 characters) would be written on each of 10 lines: at least 100,000 characters to check, over the limit of 50,000')
    expect(counter.texts).toEqual([])
  })

  it('stops once the lines and texts it works through pass maxWorkChars', async () => {
    const runs = Array.from({ length: 100 }, (_, i) => kilnRun(String(i + 1), { output: `answer ${i} `.repeat(20) }))
    const ids = runs.map((run) => String(run.id))
    await expect(validate(runsSource(runs, { train: ids }), { format: 'openai_chat_jsonl' }, { maxWorkChars: 10_000 }))
      .rejects.toThrow(/^This validation needs more than its limit of 10,000 characters of work: /)
    const report = await validate(runsSource(runs, { train: ids }), { format: 'openai_chat_jsonl' }, { maxWorkChars: 1_000_000 })
    expect(report.splits[0]?.line_count).toBe(100)
  })
})
