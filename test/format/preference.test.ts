import { describe, expect, it } from 'vitest'
import { ExportDataError, prepareExport, type ExportParams } from '../../src/export/prepare-export.js'
import { FormatError, PairPlanner, normalizedRating, type DatasetFormat, type PairBy, type TaskRunData } from '../../src/format/index.js'
import { inlineSource } from '../../src/source/index.js'
import { kilnRun, type RunOptions } from '../helpers/kiln-data.js'

const run = (id: string, options: RunOptions = {}): TaskRunData => kilnRun(id, options) as unknown as TaskRunData

/** Export the given runs (all in split `train`, in order) and return the text, line count and skipped count. */
async function exportPairs (runs: TaskRunData[], format: DatasetFormat, extra: Partial<ExportParams> = {}, structuredOutput = false): Promise<{ text: string, lineCount: number, skipped: number | undefined, fileName: string }> {
  const source = inlineSource({ id: '1', name: 'Prefs', split_contents: { train: runs.map((r) => r.id) } }, runs, structuredOutput)
  const prepared = await prepareExport(source, {
    splitName: 'train', format, dataStrategy: 'final_only', systemMessage: 'Sois bref.', thinkingInstructions: null, ...extra
  }, { bufferBytes: 0, chunkBytes: 64 })
  let text = ''
  for await (const chunk of prepared.chunks) text += chunk.toString('utf8')
  return { text, lineCount: prepared.lineCount, skipped: prepared.skippedRuns, fileName: prepared.fileName }
}

const stars = (value: number) => ({ type: 'five_star', value })

describe('preference formats write Python json.dumps lines', () => {
  const runs = [run('1', { input: 'Où ?', output: 'Là-bas', repaired: 'Ici, à Paris ✓' })]

  it('openai_preference_jsonl: input.messages, then one assistant message each side', async () => {
    const { text, lineCount, skipped, fileName } = await exportPairs(runs, 'openai_preference_jsonl')
    expect(text).toBe(
      '{"input": {"messages": [{"role": "system", "content": "Sois bref."}, {"role": "user", "content": "Où ?"}]}, ' +
      '"preferred_output": [{"role": "assistant", "content": "Ici, à Paris ✓"}], ' +
      '"non_preferred_output": [{"role": "assistant", "content": "Là-bas"}]}\n')
    expect(lineCount).toBe(1)
    expect(skipped).toBe(0)
    expect(fileName).toBe('Prefs -- split-train -- format-openai_preference_jsonl -- no-cot.jsonl')
  })

  it('openai_preference_jsonl: the request\'s tools go inside input', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }]
    const { text } = await exportPairs(runs, 'openai_preference_jsonl', { tools })
    expect(text).toBe(
      '{"input": {"messages": [{"role": "system", "content": "Sois bref."}, {"role": "user", "content": "Où ?"}], ' +
      '"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]}, ' +
      '"preferred_output": [{"role": "assistant", "content": "Ici, à Paris ✓"}], ' +
      '"non_preferred_output": [{"role": "assistant", "content": "Là-bas"}]}\n')
  })

  it('openai_preference_jsonl: run-config tools (Kiln built-ins) go inside input when the request sends none', async () => {
    const { text } = await exportPairs([run('1', { output: 'a', repaired: 'b', tools: ['kiln_tool::add_numbers'] })], 'openai_preference_jsonl')
    expect(text).toContain('"tools": [{"type": "function", "function": {"name": "add", "description": "Add two numbers together and return the result"')
  })

  it('huggingface_preference_jsonl: TRL prompt, chosen, rejected', async () => {
    const { text } = await exportPairs(runs, 'huggingface_preference_jsonl')
    expect(text).toBe(
      '{"prompt": [{"role": "system", "content": "Sois bref."}, {"role": "user", "content": "Où ?"}], ' +
      '"chosen": [{"role": "assistant", "content": "Ici, à Paris ✓"}], "rejected": [{"role": "assistant", "content": "Là-bas"}]}\n')
  })

  it('vertex_gemini_preference: system_instruction, contents ending with the user turn, scored completions', async () => {
    const { text } = await exportPairs(runs, 'vertex_gemini_preference')
    expect(text).toBe(
      '{"system_instruction": {"parts": [{"text": "Sois bref."}]}, "contents": [{"role": "user", "parts": [{"text": "Où ?"}]}], ' +
      '"completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "Ici, à Paris ✓"}]}}, ' +
      '{"score": 0, "completion": {"role": "model", "parts": [{"text": "Là-bas"}]}}]}\n')
  })

  it('re-serialises structured answers the Python way when the task has an output schema', async () => {
    const structured = [run('1', { output: '{"a":1.0,"b":[1,2]}', repaired: '{ "a": 2, "é": "x" }' })]
    const { text } = await exportPairs(structured, 'huggingface_preference_jsonl', {}, true)
    expect(text).toBe(
      '{"prompt": [{"role": "system", "content": "Sois bref."}, {"role": "user", "content": "input of 1"}], ' +
      '"chosen": [{"role": "assistant", "content": "{\\"a\\": 2, \\"é\\": \\"x\\"}"}], ' +
      '"rejected": [{"role": "assistant", "content": "{\\"a\\": 1.0, \\"b\\": [1, 2]}"}]}\n')
    // Without the schema the stored text is written as it is.
    expect((await exportPairs(structured, 'huggingface_preference_jsonl')).text).toContain('"content": "{ \\"a\\": 2, \\"é\\": \\"x\\" }"')
  })

  it('refuses a structured answer that is not JSON with the JSON format\'s code and message, naming the run', async () => {
    const error = await exportPairs([run('7', { output: 'not json', repaired: '{"a": 1}' })], 'openai_preference_jsonl', {}, true).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ExportDataError)
    expect(error).toMatchObject({ code: 'OUTPUT_NOT_JSON', runIds: ['7'] })
    expect((error as Error).message).toMatch(/^Invalid JSON in JSON Schema training set: Expecting value: line 1 column 1 \(char 0\)\nOutput Data: not json$/)
  })

  it('takes final_only only, and refuses pair_by with an SFT format', async () => {
    await expect(exportPairs(runs, 'vertex_gemini_preference', { dataStrategy: 'two_message_cot' })).rejects.toMatchObject({
      code: 'STRATEGY_NOT_SUPPORTED', message: expect.stringMatching(/^Format vertex_gemini_preference does not support data strategy two_message_cot: use one of final_only, or a format that takes two_message_cot: openai_chat_jsonl, .* \(GET \/formats\)$/)
    })
    const error = await exportPairs(runs, 'openai_chat_jsonl', { pairBy: 'rating' }).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(FormatError)
    expect(error).toMatchObject({ code: 'PAIR_BY_NOT_SUPPORTED' })
  })
})

describe('pairing', () => {
  const answers = async (runs: TaskRunData[], pairBy: PairBy): Promise<{ pairs: string[][], skipped: number | undefined, fileName: string }> => {
    const { text, skipped, fileName } = await exportPairs(runs, 'huggingface_preference_jsonl', { pairBy })
    const pairs = text.split('\n').filter((line) => line !== '').map((line) => {
      const value = JSON.parse(line) as { prompt: Array<{ content: string }>, chosen: Array<{ content: string }>, rejected: Array<{ content: string }> }
      return [value.prompt[1]?.content ?? '', value.chosen[0]?.content ?? '', value.rejected[0]?.content ?? '']
    })
    return { pairs, skipped, fileName }
  }

  it('repair: one pair per run whose repaired output differs, in split order; the others are skipped', async () => {
    const runs = [
      run('1', { output: 'bad 1', repaired: 'good 1' }),
      run('2'),
      run('3', { output: 'same', repaired: 'same' }),
      run('4', { output: 'bad 4', repaired: 'good 4', rating: stars(5) })
    ]
    expect(await answers(runs, 'repair')).toEqual({
      pairs: [['input of 1', 'good 1', 'bad 1'], ['input of 4', 'good 4', 'bad 4']],
      skipped: 2,
      fileName: 'Prefs -- split-train -- format-huggingface_preference_jsonl -- no-cot.jsonl'
    })
  })

  it('rating: highest over lowest per input, ties to the first in split order, at the group\'s first run, after its repair pair', async () => {
    const runs = [
      run('1', { input: 'Q', output: 'a1', repaired: 'r1' }), // unrated, opens group Q; its repair pair comes first
      run('2', { input: 'Q', output: 'a2', rating: stars(2) }),
      run('3', { input: 'P', output: 'p3', rating: { type: 'pass_fail', value: 1 } }),
      run('4', { input: 'Q', output: 'a4', rating: stars(5) }), // highest
      run('5', { input: 'Q', output: 'a5', rating: stars(5) }), // tie with 4: 4 is first
      run('6', { input: 'Q', output: 'a6', rating: stars(2) }), // tie with 2 for lowest: 2 is first
      run('7', { input: 'P', output: 'p7', rating: { type: 'pass_fail_critical', value: -1 } })
    ]
    const { pairs, skipped, fileName } = await answers(runs, 'rating')
    expect(pairs).toEqual([
      ['Q', 'r1', 'a1'],
      ['Q', 'a4', 'a2'],
      ['P', 'p3', 'p7']
    ])
    // Run 1 (repair), 2 and 4 (Q), 3 and 7 (P) pair; 5 and 6 are skipped.
    expect(skipped).toBe(2)
    expect(fileName).toBe('Prefs -- split-train -- format-huggingface_preference_jsonl -- no-cot -- pair_by-rating.jsonl')
  })

  it('rating: compares normalised values across rating types and uses each run\'s final (repaired) answer', async () => {
    const runs = [
      run('1', { input: 'Q', output: 'x', repaired: 'fixed', rating: { type: 'pass_fail_critical', value: 0 } }), // 0.5
      run('2', { input: 'Q', output: 'y', rating: stars(4) }) // 0.75
    ]
    expect((await answers(runs, 'rating')).pairs).toEqual([['Q', 'fixed', 'x'], ['Q', 'y', 'fixed']])
  })

  it('rating: no pair for equal ratings, custom or out-of-range ratings, one rated run, or identical answers', async () => {
    const runs = [
      run('1', { input: 'equal', rating: stars(3) }),
      run('2', { input: 'equal', rating: stars(3) }),
      run('3', { input: 'custom', rating: { type: 'custom', value: 1 } }),
      run('4', { input: 'custom', rating: { type: 'custom', value: 9 } }),
      run('5', { input: 'range', rating: stars(7) }),
      run('6', { input: 'range', rating: stars(1) }),
      run('7', { input: 'same', output: 'same answer', rating: stars(5) }),
      run('8', { input: 'same', output: 'same answer', rating: stars(1) }),
      run('9', { input: 'ok', output: 'good', rating: stars(5) }),
      run('10', { input: 'ok', output: 'poor', rating: { type: 'pass_fail', value: 0 } })
    ]
    expect(await answers(runs, 'rating')).toMatchObject({ pairs: [['ok', 'good', 'poor']], skipped: 8 })
    // pair_by repair ignores ratings: nothing pairs.
    await expect(answers(runs, 'repair')).rejects.toMatchObject({ code: 'NO_PREFERENCE_PAIRS' })
  })

  it('refuses a split with no pair, an empty one too, saying how to get pairs', async () => {
    const error = await exportPairs([run('1'), run('2')], 'openai_preference_jsonl').catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ExportDataError)
    expect(error).toMatchObject({ code: 'NO_PREFERENCE_PAIRS', runIds: [] })
    expect((error as Error).message).toBe('Split train makes no preference pair (pair_by repair, 2 runs): no run has a repaired output that differs from its output. ' +
      'Repair runs in Kiln (the repaired output is the preferred answer), or send pair_by "rating" with rated runs that share an input.')
    await expect(exportPairs([], 'openai_preference_jsonl')).rejects.toMatchObject({ code: 'NO_PREFERENCE_PAIRS' })
  })

  it('refuses missing runs as the SFT export does, before anything', async () => {
    const source = inlineSource({ id: '1', name: 'Prefs', split_contents: { train: ['1', 'gone'] } }, [run('1', { repaired: 'x' })])
    await expect(prepareExport(source, { splitName: 'train', format: 'openai_preference_jsonl', dataStrategy: 'final_only', systemMessage: '', thinkingInstructions: null }))
      .rejects.toMatchObject({ code: 'TASK_RUN_NOT_FOUND', runIds: ['gone'], message: 'Task run gone not found. This is required by this dataset.' })
  })

  it('normalises ratings as Kiln does and explains skipped runs', () => {
    expect([stars(1), stars(5), { type: 'pass_fail', value: 0.5 }, { type: 'pass_fail_critical', value: 0 }, { type: 'custom', value: 1 }, { type: 'five_star', value: 0 }]
      .map((rating) => normalizedRating(run('1', { rating })))).toEqual([0, 1, 0.5, 0.5, null, null])
    const planner = new PairPlanner('rating')
    const runs = [run('1', { input: 'Q', rating: stars(3) }), run('2', { input: 'Q', rating: stars(3) }), run('3')]
    runs.forEach((r, i) => { planner.add(i, r) })
    expect(planner.pairCount).toBe(0)
    expect(planner.skipReason(0, runs[0] as TaskRunData)).toBe('Run 1 makes no preference pair: it has no repaired output, and every rated run with its input has the same rating (pair_by rating)')
    expect(planner.skipReason(2, runs[2] as TaskRunData)).toBe('Run 3 makes no preference pair: it has no repaired output, and it has no rating that compares (none, custom, or out of range) (pair_by rating)')
  })
})
