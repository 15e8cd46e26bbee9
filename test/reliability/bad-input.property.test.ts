import fc from 'fast-check'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { startServer, type TestServer } from '../helpers/server.js'

/*
 * Thousands of malformed requests thrown at the export route: every one must get a 4xx JSON error
 * with a KEX_ code, none a 5xx, and the process must stay up with bounded memory.
 */

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const BODY_LIMIT = 256 * 1024
const PATH = '/datasets/100000000001/export'
let requests = 0
const statuses = new Map<number, number>()

function validBody (): Record<string, unknown> {
  return inlineBody([kilnRun('1', { intermediate: { reasoning: 'r' } }), kilnRun('2', { repaired: 'fixed' })], {
    data_strategy: 'final_and_intermediate',
    thinking_instructions: 'Think.'
  })
}

async function send (server: TestServer, body: string | Buffer, contentType = 'application/json', path = PATH): Promise<void> {
  const response = await server.client.request({ method: 'POST', path, headers: { 'content-type': contentType }, body })
  const text = await response.body.text()
  requests++
  statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
  expect(response.statusCode, text.slice(0, 300)).toBeGreaterThanOrEqual(400)
  expect(response.statusCode, text.slice(0, 300)).toBeLessThan(500)
  expect(response.headers['content-type']).toMatch(/^application\/json/)
  const error = JSON.parse(text) as { statusCode: number, code: string, message: string }
  expect(error.statusCode).toBe(response.statusCode)
  expect(error.code).toMatch(/^KEX_/)
  expect(error.message).not.toMatch(/\n\s+at /)
}

/** A JSON value that is not a string. */
const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
/** A JSON value that is not an object. */
const notObject = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }))

/** Paths to fields that must be strings, and to fields that must be objects. */
const STRING_FIELDS = [['split_name'], ['format'], ['system_message'], ['dataset_split', 'id'], ['dataset_split', 'name'],
  ['task_runs', 0, 'id'], ['task_runs', 0, 'input'], ['task_runs', 1, 'output', 'output'], ['task_runs', 1, 'repaired_output', 'output'],
  ['task_runs', 0, 'intermediate_outputs', 'reasoning'], ['dataset_split', 'split_contents', 'train', 0]] as const
const OBJECT_FIELDS = [['dataset_split'], ['task_runs', 0], ['task_runs', 0, 'output'], ['dataset_split', 'split_contents'], ['task']] as const
const REQUIRED = [['split_name'], ['format'], ['system_message'], ['dataset_split', 'id'], ['dataset_split', 'name'],
  ['dataset_split', 'split_contents'], ['task_runs', 0, 'id'], ['task_runs', 0, 'input'], ['task_runs', 0, 'output'], ['task_runs', 1, 'output', 'output']] as const

type Path = ReadonlyArray<string | number>
function setAt (body: Record<string, unknown>, path: Path, value: unknown, remove = false): Record<string, unknown> {
  let node = body as Record<string | number, unknown>
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  const last = path[path.length - 1] as string | number
  if (remove) delete node[last]
  else node[last] = value
  return body
}

describe('malformed export requests', () => {
  it('all get a 4xx JSON error, never a 5xx, and memory stays bounded', async () => {
    const server = await startServer({ bodyLimit: BODY_LIMIT })
    const valid = JSON.stringify(validBody())
    // Sanity check: the base body is valid, so each mutation below is what makes a request bad.
    const ok = await server.client.request({ method: 'POST', path: PATH, headers: { 'content-type': 'application/json' }, body: valid })
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
    gc()
    const heapBefore = process.memoryUsage().heapUsed
    const runs = { numRuns: 300 }

    // Wrong types anywhere the formatter reads.
    await fc.assert(fc.asyncProperty(fc.constantFrom(...STRING_FIELDS), notString, async (path, value) => {
      await send(server, JSON.stringify(setAt(validBody(), path, value)))
    }), runs)
    await fc.assert(fc.asyncProperty(fc.constantFrom(...OBJECT_FIELDS), notObject, async (path, value) => {
      await send(server, JSON.stringify(setAt(validBody(), path, value)))
    }), runs)
    // Missing required fields.
    await fc.assert(fc.asyncProperty(fc.constantFrom(...REQUIRED), async (path) => {
      await send(server, JSON.stringify(setAt(validBody(), path, undefined, true)))
    }), { numRuns: 50 })
    // Unknown top-level keys, unknown formats and strategies.
    await fc.assert(fc.asyncProperty(
      fc.string({ minLength: 1, maxLength: 30 }).filter((k) => !(k in validBody()) && k !== '__proto__' && k !== 'constructor'),
      fc.jsonValue({ maxDepth: 2 }),
      async (key, value) => { await send(server, JSON.stringify({ ...validBody(), [key]: value })) }), runs)
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 40 }), fc.boolean(), async (value, field) => {
      if (['openai_chat_jsonl', 'final_only', 'final_and_intermediate'].includes(value)) return
      await send(server, JSON.stringify({ ...validBody(), [field ? 'format' : 'data_strategy']: value }))
    }), runs)
    // Deep nesting, where a value is expected.
    await fc.assert(fc.asyncProperty(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom(...STRING_FIELDS, ...OBJECT_FIELDS), async (depth, path) => {
      const nested = '['.repeat(depth) + ']'.repeat(depth)
      const body = JSON.stringify(setAt(validBody(), path, 'NESTED')).replace('"NESTED"', nested)
      await send(server, body.length > BODY_LIMIT ? body.slice(0, BODY_LIMIT) : body)
    }), { numRuns: 100 })
    // Huge strings: over the limit (413) or in the wrong place (404 unknown split, 400 id mismatch).
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.constantFrom('split_name', 'format', 'system_message'), async (mb, field) => {
      await send(server, JSON.stringify({ ...validBody(), [field]: 'x'.repeat(mb * BODY_LIMIT) }))
    }), { numRuns: 20 })
    await send(server, JSON.stringify({ ...validBody(), split_name: 'x'.repeat(BODY_LIMIT / 2) }))
    // Invalid UTF-8: random bytes of 0x80-0xff put into a valid body.
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(), async (bytes, at) => {
      const body = Buffer.from(valid)
      const position = at % body.length
      const invalid = Buffer.concat([body.subarray(0, position), Buffer.from([0xff, ...bytes.map((b) => b | 0x80)]), body.subarray(position)])
      await send(server, invalid)
    }), runs)
    // Non-JSON bodies, truncated JSON.
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
      try { JSON.parse(text); return } catch { /* not JSON: what we want */ }
      await send(server, text)
    }), runs)
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: valid.length - 1 }), async (cut) => {
      await send(server, valid.slice(0, cut))
    }), runs)
    // Wrong content types.
    await fc.assert(fc.asyncProperty(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'text/json', 'image/png'), async (type) => {
      await send(server, valid, type)
    }), { numRuns: 50 })
    // Duplicate keys: JSON keeps the last one, and here the last one is wrong.
    await fc.assert(fc.asyncProperty(fc.constantFrom('split_name', 'format', 'system_message', 'dataset_split'), notObject.filter((v) => typeof v !== 'string'), async (key, value) => {
      await send(server, `${valid.slice(0, -1)}, ${JSON.stringify(key)}: ${JSON.stringify(value)}}`)
    }), { numRuns: 100 })
    // Prototype pollution attempts.
    for (const key of ['__proto__', 'constructor']) {
      await send(server, `{"${key}": {"polluted": true}, ${valid.slice(1)}`)
      const polluted = valid.replace('"task_runs":[{', `"task_runs":[{"${key}": {"prototype": {"x": 1}}, `)
      expect(polluted).not.toBe(valid)
      await send(server, polluted)
    }
    // Hostile ids in the URL.
    await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 120 }), async (id) => {
      if (id === '100000000001') return
      await send(server, valid, 'application/json', `/datasets/${encodeURIComponent(id)}/export`)
    }), runs)

    expect(requests).toBeGreaterThan(2500)
    gc()
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
    const health = await server.client.request({ method: 'GET', path: '/health' })
    expect(health.statusCode).toBe(200)
    await health.body.dump()
    // The figures for the issue notes: requests thrown and how they were answered.
    console.info(`malformed requests: ${requests}, statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  }, 180_000)
})
