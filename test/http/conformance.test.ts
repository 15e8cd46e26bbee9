import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PARSING_FORMATS,
  expectedHasNonFinite,
  loadFixtures,
  requestBody,
  type ConformanceCase,
  type Fixture
} from '../helpers/conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/*
 * Every case Kiln generated, replayed through a real server on a real port over the inline body.
 * ok cases must be byte-identical (after masking the random HF tool-call id); error cases get the
 * status and message of the table in ../fixtures/conformance/README.md, including our deliberate
 * differences (NaN/Infinity and lone surrogates refused, every missing run named, all before the
 * first byte).
 */

interface ErrorBody { code: string, message: string, run_ids?: string[] }

const fixtures = loadFixtures()
let server: TestServer & { close: () => Promise<void> }
beforeAll(async () => { server = await listen() })
afterAll(async () => { await server.close() })

async function exportCase (fixture: Fixture, testCase: ConformanceCase) {
  return postJson(server.client, `/datasets/${testCase.dataset_split_id}/export`, requestBody(fixture, testCase))
}

function expectedError (fixture: Fixture, testCase: ConformanceCase): { message: string, message_prefix: string } {
  return JSON.parse(readFileSync(join(fixture.dir, testCase.expected), 'utf8')) as { message: string, message_prefix: string }
}

it('finds both conformance fixtures with all their cases', () => {
  expect(fixtures.map((f) => [f.name, f.cases.length])).toEqual([
    ['f1_support_replies', 171],
    ['f2_recipe_extraction', 194]
  ])
})

for (const fixture of fixtures) {
  describe(fixture.name, () => {
    for (const testCase of fixture.cases.filter((c) => c.result === 'ok')) {
      it(`${testCase.case_id} matches Kiln's bytes`, async () => {
        const expected = readFileSync(join(fixture.dir, testCase.expected), 'utf8')
        const response = await exportCase(fixture, testCase)
        if (expectedHasNonFinite(testCase.format, expected)) {
          // Deliberate difference: Kiln writes NaN/Infinity; we refuse before the first byte.
          expect(response.status).toBe(422)
          expect((response.json() as ErrorBody).code).toBe('KEX_OUTPUT_NOT_FINITE')
          return
        }
        expect(response.status, response.text.slice(0, 500)).toBe(200)
        expect(response.headers['content-type']).toBe('application/jsonl; charset=utf-8')
        expect(fixture.mask(response.text)).toBe(fixture.mask(expected))
        if (testCase.format === 'huggingface_chat_template_toolcall_jsonl') {
          // The masked id really is Kiln's shape: 9 lowercase hex characters per line.
          const ids = [...response.text.matchAll(/"name": "task_response", "id": "([^"]*)"/g)].map((m) => m[1])
          expect(ids).toHaveLength(response.text.split('\n').length - 1)
          for (const id of ids) expect(id).toMatch(/^[0-9a-f]{9}$/)
        }
      })
    }

    for (const testCase of fixture.cases.filter((c) => c.result === 'error')) {
      it(`${testCase.case_id} is refused like Kiln (${testCase.error_kind ?? ''})`, async () => {
        const kiln = expectedError(fixture, testCase)
        const response = await exportCase(fixture, testCase)
        const body = response.json() as ErrorBody
        expect(response.headers['content-type']).toMatch(/^application\/json/)
        expect(response.headers['content-disposition']).toBeUndefined()
        switch (testCase.error_kind) {
          case 'unknown_split':
            expect(response.status).toBe(404)
            expect(body.code).toBe('KEX_SPLIT_NOT_FOUND')
            expect(body.message).toBe(kiln.message)
            break
          case 'unsupported_format':
            expect(response.status).toBe(400)
            expect(body.code).toBe('KEX_VALIDATION_FAILED')
            expect(body.message).toContain('body/format must be one of: openai_chat_jsonl, ')
            break
          case 'thinking_instructions_required':
            expect(response.status).toBe(422)
            expect(body.code).toBe('KEX_THINKING_INSTRUCTIONS_REQUIRED')
            expect(body.message).toBe(kiln.message)
            expect(body.run_ids?.length).toBeGreaterThan(0)
            break
          case 'output_not_json':
            expect(response.status).toBe(422)
            expect(body.code).toBe('KEX_OUTPUT_NOT_JSON')
            // Our decoder reproduces Python's error text, so the whole message matches.
            expect(body.message).toBe(kiln.message)
            expect(body.run_ids?.length).toBeGreaterThan(0)
            break
          case 'missing_task_run': {
            const missingId = kiln.message.replace(/'/g, '')
            expect(response.status).toBe(422)
            expect(body.code).toBe('KEX_TASK_RUN_NOT_FOUND')
            expect(body.run_ids).toContain(missingId)
            expect(body.message).toContain(missingId)
            break
          }
          case 'unencodable_output':
            expect(response.status).toBe(422)
            expect(body.code).toBe('KEX_UNENCODABLE_TEXT')
            expect(PARSING_FORMATS.has(testCase.format)).toBe(true)
            expect(body.message).toBe(kiln.message)
            break
          default:
            throw new Error(`unknown error kind ${String(testCase.error_kind)}`)
        }
      })
    }
  })
}
