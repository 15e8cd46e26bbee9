import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type ValidationReport } from '../../src/validate/index.js'
import { inlineBody, kilnRun, kilnSplit, type RunOptions } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

const ID = '100000000001'
const PATH = `/datasets/${ID}/export`

/** Three runs' options: a repair, an unrated run, and a rated pair on one input ("Q"). */
const RUN_OPTIONS: Array<[string, RunOptions]> = [
  ['1', { input: 'Où ?', output: 'Là-bas', repaired: 'Ici ✓' }],
  ['2', {}],
  ['3', { input: 'Q', output: 'good', rating: { type: 'five_star', value: 5 } }],
  ['4', { input: 'Q', output: 'poor', rating: { type: 'five_star', value: 1 } }]
]
const RUNS = RUN_OPTIONS.map(([id, options]) => kilnRun(id, options))

/** The lines of RUNS per format, pair_by rating. */
const EXPECTED: Record<string, string> = {
  openai_preference_jsonl:
    '{"input": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Où ?"}]}, "preferred_output": [{"role": "assistant", "content": "Ici ✓"}], "non_preferred_output": [{"role": "assistant", "content": "Là-bas"}]}\n' +
    '{"input": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q"}]}, "preferred_output": [{"role": "assistant", "content": "good"}], "non_preferred_output": [{"role": "assistant", "content": "poor"}]}\n',
  huggingface_preference_jsonl:
    '{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Où ?"}], "chosen": [{"role": "assistant", "content": "Ici ✓"}], "rejected": [{"role": "assistant", "content": "Là-bas"}]}\n' +
    '{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "poor"}]}\n',
  vertex_gemini_preference:
    '{"system_instruction": {"parts": [{"text": "Be brief."}]}, "contents": [{"role": "user", "parts": [{"text": "Où ?"}]}], "completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "Ici ✓"}]}}, {"score": 0, "completion": {"role": "model", "parts": [{"text": "Là-bas"}]}}]}\n' +
    '{"system_instruction": {"parts": [{"text": "Be brief."}]}, "contents": [{"role": "user", "parts": [{"text": "Q"}]}], "completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "good"}]}}, {"score": 0, "completion": {"role": "model", "parts": [{"text": "poor"}]}}]}\n'
}

/** A mounted project holding RUNS in split `train` of dataset split ID. */
async function mountedProject () {
  const project = await makeKilnProject()
  for (const [id, options] of RUN_OPTIONS) await project.writeRun(id, options)
  await project.writeSplit(ID, { train: RUN_OPTIONS.map(([id]) => id) })
  return project
}

describe('preference exports over HTTP', () => {
  for (const [format, expected] of Object.entries(EXPECTED)) {
    it(`${format}: inline, with the skipped-run header and trailers`, async () => {
      const { client } = await startServer()
      const response = await client.request({
        method: 'POST',
        path: PATH,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(inlineBody(RUNS, { format, pair_by: 'rating' }))
      })
      const text = await response.body.text()
      expect(response.statusCode).toBe(200)
      expect(text).toBe(expected)
      expect(response.headers['x-export-line-count']).toBe('2')
      expect(response.headers['x-export-skipped-run-count']).toBe('1')
      expect(response.headers['content-disposition']).toBe(`attachment; filename="Test split -- split-train -- format-${format} -- no-cot -- pair_by-rating.jsonl"`)
      expect(response.headers.trailer).toBe('x-export-lines, x-export-sha256, x-export-skipped-runs')
      expect(response.trailers).toEqual({
        'x-export-lines': '2',
        'x-export-sha256': createHash('sha256').update(text).digest('hex'),
        'x-export-skipped-runs': '1'
      })
    })

    it(`${format}: mounted, the same lines`, async () => {
      const project = await mountedProject()
      const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
      const response = await postJson(client, PATH, { split_name: 'train', format, system_message: 'Be brief.', pair_by: 'rating' })
      expect(response.status).toBe(200)
      expect(response.text).toBe(expected)
      expect(response.headers['x-export-skipped-run-count']).toBe('1')
    })
  }

  it('pairs by repair by default: only the repair pair, three runs skipped', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody(RUNS, { format: 'huggingface_preference_jsonl' }))
    expect(response.status).toBe(200)
    expect(response.text).toBe(EXPECTED.huggingface_preference_jsonl?.split('\n')[0] + '\n')
    expect(response.headers['x-export-skipped-run-count']).toBe('3')
    expect(response.headers['content-disposition']).toBe('attachment; filename="Test split -- split-train -- format-huggingface_preference_jsonl -- no-cot.jsonl"')
  })

  it('parses structured answers when the mounted task has an output schema', async () => {
    const project = await makeKilnProject()
    await writeFile(join(project.taskDir, 'task.kiln'), JSON.stringify({
      v: 1, id: '222222222222', name: 'Test Task', instruction: 'Do it.', output_json_schema: '{"type": "object"}', model_type: 'task'
    }))
    await project.writeRun('1', { output: '{"a":1}', repaired: '{"a":  2}' })
    await project.writeSplit(ID, { train: ['1'] })
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const response = await postJson(client, PATH, { split_name: 'train', format: 'huggingface_preference_jsonl', system_message: 'S' })
    expect(response.text).toBe('{"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "input of 1"}], ' +
      '"chosen": [{"role": "assistant", "content": "{\\"a\\": 2}"}], "rejected": [{"role": "assistant", "content": "{\\"a\\": 1}"}]}\n')
  })

  it('answers 422 KEX_NO_PREFERENCE_PAIRS for a split with no pair', async () => {
    const { client } = await startServer()
    const response = await postJson(client, PATH, inlineBody([kilnRun('1')], { format: 'vertex_gemini_preference' }))
    expect(response.status).toBe(422)
    expect(response.headers['x-export-skipped-run-count']).toBeUndefined()
    expect(response.json()).toMatchObject({
      code: 'KEX_NO_PREFERENCE_PAIRS',
      message: 'Split train makes no preference pair (pair_by repair, 1 run): no run has a repaired output that differs from its output. ' +
        'Repair runs in Kiln (the repaired output is the preferred answer), or send pair_by "rating" with rated runs that share an input.'
    })
  })

  it('answers 400 for pair_by with an SFT format, and for a thinking strategy with a preference format', async () => {
    const { client } = await startServer()
    const sft = await postJson(client, PATH, inlineBody(RUNS, { pair_by: 'repair' }))
    expect(sft.status).toBe(400)
    expect(sft.json()).toMatchObject({ code: 'KEX_PAIR_BY_NOT_SUPPORTED' })
    const strategy = await postJson(client, PATH, inlineBody(RUNS, { format: 'openai_preference_jsonl', data_strategy: 'final_and_intermediate', thinking_instructions: 'T' }))
    expect(strategy.status).toBe(400)
    expect(strategy.json()).toMatchObject({ code: 'KEX_STRATEGY_NOT_SUPPORTED' })
  })

  it('lists the preference formats in GET /formats with their kind', async () => {
    const { client } = await startServer()
    const response = await client.request({ method: 'GET', path: '/formats' })
    const { formats } = await response.body.json() as { formats: Array<{ name: string, kind: string, data_strategies: string[] }> }
    expect(formats.filter((f) => f.kind === 'preference').map((f) => [f.name, f.data_strategies])).toEqual([
      ['openai_preference_jsonl', ['final_only']],
      ['huggingface_preference_jsonl', ['final_only']],
      ['vertex_gemini_preference', ['final_only']]
    ])
  })
})

describe('validating preference exports', () => {
  for (const format of Object.keys(EXPECTED)) {
    it(`${format}: checks the exact lines and lists skipped runs as warnings`, async () => {
      const { client } = await startServer()
      const response = await postJson(client, `/datasets/${ID}/validate`, inlineBody(RUNS, { format, pair_by: 'rating', split_name: 'train' }))
      expect(response.status).toBe(200)
      const report = response.json() as ValidationReport
      const split = report.splits[0]
      expect(split).toMatchObject({ run_count: 4, line_count: 2, exportable: true })
      const codes = split?.problems.map((p) => `${p.severity} ${p.code} ${p.run_id ?? '-'}`)
      expect(codes).toContain('warning NO_PREFERENCE_PAIR 2')
      expect(codes?.filter((c) => c.startsWith('error') && c !== 'error TOO_FEW_TRAINING_EXAMPLES -')).toEqual([])
      expect(split?.problems.find((p) => p.code === 'NO_PREFERENCE_PAIR')?.message).toBe(
        'Run 2 makes no preference pair: it has no repaired output, and it has no rating that compares (none, custom, or out of range) (pair_by rating)')
      expect(split?.problem_counts.NO_PREFERENCE_PAIR).toBe(1)
    })
  }

  it('reports a split with no pair as an error with the export\'s code', async () => {
    const { client } = await startServer()
    const response = await postJson(client, `/datasets/${ID}/validate`, inlineBody([kilnRun('1')], {
      format: 'openai_preference_jsonl', dataset_split: kilnSplit(ID, { train: ['1'] })
    }))
    const report = response.json() as ValidationReport
    expect(report.splits[0]).toMatchObject({ exportable: false, line_count: 0 })
    expect(report.splits[0]?.problems.map((p) => `${p.severity} ${p.code} ${p.run_id ?? '-'}`)).toEqual(expect.arrayContaining([
      'error KEX_NO_PREFERENCE_PAIRS -', 'warning NO_PREFERENCE_PAIR 1'
    ]))
  })
})

describe('validating preference exports: data warnings', () => {
  it('keeps the run warnings that still apply: a run listed again, in two splits, with an empty input', async () => {
    const { client } = await startServer()
    const runs = [kilnRun('1', { repaired: 'better' }), kilnRun('2', { input: ' ', repaired: 'fixed' })]
    const response = await postJson(client, `/datasets/${ID}/validate`, inlineBody(runs, {
      format: 'openai_preference_jsonl', split_name: 'train', dataset_split: kilnSplit(ID, { train: ['1', '2', '1'], test: ['2'] })
    }))
    const report = response.json() as ValidationReport
    const train = report.splits[0]
    expect(train).toMatchObject({ name: 'train', line_count: 3, exportable: true })
    expect(train?.problems.filter((p) => p.severity === 'warning').map((p) => `${p.code} ${p.run_id ?? '-'} ${p.line ?? '-'}`)).toEqual([
      'RUN_IN_SEVERAL_SPLITS 2 2', 'EMPTY_INPUT 2 2', 'DUPLICATE_RUN_ID 1 3'
    ])
  })
})
