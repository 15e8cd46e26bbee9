import { readFile, writeFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type ReportProblem, type ValidationReport } from '../../src/validate/index.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { startServer, type TestServer } from '../helpers/server.js'

/*
 * JSON nested thousands of levels deep, wherever a body or a run file may hold it, on both routes:
 * always a 4xx that names where, never a 500 from a stack overflow in a recursive walker.
 */

const DEPTHS = [1000, 2000, 3000, 5000, 10_000, 100_000]
const SPLIT_ID = '100000000001'

/** JSON text of `depth` nested objects ({"a": {"a": ... 1}}) or arrays. */
const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

/** A trace whose assistant tool call (or tool answer) holds `nested` (JSON text) in place of "NESTED". */
function traceWith (where: 'tool_call' | 'content'): unknown[] {
  const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' }, extra: 'NESTED' }
  return [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: null, tool_calls: where === 'tool_call' ? [call] : [{ ...call, extra: undefined }] },
    { role: 'tool', content: where === 'content' ? 'NESTED' : 'r', tool_call_id: 'c1' }
  ]
}

/** Put the nested JSON text where the placeholder string is. */
const withNested = (json: string, nested: string): string => json.replace('"NESTED"', nested)

interface Answer { readonly status: number, readonly body: Record<string, unknown> }

async function post (server: TestServer, path: string, text: string): Promise<Answer> {
  const response = await server.client.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: text })
  return { status: response.statusCode, body: await response.body.json() as Record<string, unknown> }
}

/** The first problem of a report's first split that names a run. */
const lineProblem = (answer: Answer): ReportProblem | undefined =>
  (answer.body as unknown as ValidationReport).splits[0]?.problems.find((problem) => problem.run_id !== null)

/** The error body must have the documented shape, a KEX_ code and a message naming `where`. */
function expectError (answer: Answer, status: number, code: string, where: string): void {
  expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(status)
  expect(answer.body).toMatchObject({ statusCode: status, code, error: expect.any(String) })
  expect(answer.body.message).toContain(where)
  expect(answer.body.message).toContain('nests deeper than 1000 levels')
}

describe('deeply nested JSON in a request body', () => {
  const cases = [
    { name: 'tools[].function.parameters', format: 'openai_chat_jsonl', where: 'body/tools/0/function/parameters/a/a/a', nested: objects, trace: undefined },
    { name: 'tools[].function.parameters (Vertex)', format: 'vertex_gemini_1_5', where: 'body/tools/0/function/parameters/a/a/a', nested: objects, trace: undefined },
    { name: 'a trace tool call', format: 'openai_chat_jsonl', where: 'body/task_runs/0/trace/1/tool_calls/0/extra/a', nested: objects, trace: 'tool_call' },
    { name: 'a trace tool call (Vertex)', format: 'vertex_gemini_1_5', where: 'body/task_runs/0/trace/1/tool_calls/0/extra/a', nested: objects, trace: 'tool_call' },
    { name: 'a trace message content', format: 'openai_chat_jsonl', where: 'body/task_runs/0/trace/2/content/0/0', nested: arrays, trace: 'content' }
  ] as const

  for (const testCase of cases) {
    it(`answers 400 naming ${testCase.name}, at every depth, on /export and /validate`, async () => {
      const server = await startServer()
      const run = testCase.trace === undefined ? kilnRun('1') : kilnRun('1', { trace: traceWith(testCase.trace) })
      const tools = testCase.trace === undefined ? [{ type: 'function', function: { name: 'f', parameters: 'NESTED' } }] : undefined
      const json = JSON.stringify(inlineBody([run], { format: testCase.format, include_tool_calls: true, tools }))
      for (const depth of DEPTHS) {
        for (const route of ['export', 'validate']) {
          const answer = await post(server, `/datasets/${SPLIT_ID}/${route}`, withNested(json, testCase.nested(depth)))
          expectError(answer, 400, 'KEX_NESTING_TOO_DEEP', testCase.where)
        }
      }
      // Nesting within the limit is no request error.
      const shallow = await post(server, `/datasets/${SPLIT_ID}/validate`, withNested(json, testCase.nested(900)))
      expect(shallow.status).toBe(200)
    })
  }

  it('refuses a deeply nested Vertex tool-call arguments string as Kiln would, naming the run', async () => {
    const server = await startServer()
    const trace = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: 'ARGS' } }] },
      { role: 'tool', content: 'r', tool_call_id: 'c1' }
    ]
    const json = JSON.stringify(inlineBody([kilnRun('7', { trace })], { format: 'vertex_gemini_1_5', include_tool_calls: true }))
    for (const depth of DEPTHS) {
      const text = json.replace('"ARGS"', JSON.stringify(objects(depth)))
      const exported = await post(server, `/datasets/${SPLIT_ID}/export`, text)
      expect(exported.status).toBe(422)
      expect(exported.body).toMatchObject({ code: 'KEX_TRACE_INVALID', run_ids: ['7'] })
      expect(exported.body.message).toMatch(/^Invalid JSON: maximum recursion depth exceeded/)
      const validated = await post(server, `/datasets/${SPLIT_ID}/validate`, text)
      expect(validated.status).toBe(200)
      expect(lineProblem(validated)).toMatchObject({ run_id: '7', code: 'KEX_TRACE_INVALID' })
    }
  })
})

describe('deeply nested JSON in a mounted task_run.kiln', () => {
  for (const where of ['tool_call', 'content'] as const) {
    it(`refuses the run (${where} of its trace) naming it and where, at every depth, on /export and /validate`, async () => {
      const project = await makeKilnProject()
      const server = await startServer({}, { catalog: new KilnProjects(project.root) })
      const named = where === 'tool_call' ? 'task_run.kiln/trace/1/tool_calls/0/extra/a' : 'task_run.kiln/trace/2/content/0/0'
      let n = 0
      for (const depth of DEPTHS) {
        const id = String(300000000000 + ++n)
        const splitId = String(900000000000 + n)
        const file = await project.writeRun(id, { trace: traceWith(where) })
        await writeFile(file, withNested(await readFile(file, 'utf8'), where === 'tool_call' ? objects(depth) : arrays(depth)))
        await project.writeSplit(splitId, { train: [id] }, `Split ${n}`)
        const body = JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S', include_tool_calls: true })

        const exported = await post(server, `/datasets/${splitId}/export`, body)
        expectError(exported, 422, 'KEX_TASK_RUN_INVALID', `Task run ${id}: ${named}`)
        expect(exported.body.run_ids).toEqual([id])
        const strict = await post(server, `/datasets/${splitId}/export?validate=strict`, body)
        expect(strict.status).toBe(422)
        expect(strict.body).toMatchObject({ code: 'KEX_VALIDATION_REPORT_ERRORS' })
        // The report answers 200 even when the data has problems; the run's problem says where.
        const validated = await post(server, `/datasets/${splitId}/validate`, body)
        expect(validated.status).toBe(200)
        const problem = lineProblem(validated)
        expect(problem).toMatchObject({ run_id: id, severity: 'error', code: 'KEX_TASK_RUN_INVALID' })
        expect(problem?.message).toContain(`Task run ${id}: ${named}`)
        expect(problem?.message).toContain('nests deeper than 1000 levels')
      }
      // A run nested within the limit, in the same folder, exports.
      const file = await project.writeRun('399999999999', { trace: traceWith(where) })
      await writeFile(file, withNested(await readFile(file, 'utf8'), where === 'tool_call' ? objects(900) : arrays(900)))
      await project.writeSplit('999999999999', { train: ['399999999999'] }, 'Shallow')
      const fine = await post(server, '/datasets/999999999999/validate', JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S', include_tool_calls: true }))
      expect(fine.status).toBe(200)
      expect((fine.body as unknown as ValidationReport).splits[0]?.problem_counts).not.toHaveProperty('KEX_TASK_RUN_INVALID')
    })
  }
})
