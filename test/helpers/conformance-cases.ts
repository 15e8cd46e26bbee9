import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  PARSING_FORMATS,
  expectedHasNonFinite,
  type ConformanceCase,
  type Fixture
} from './conformance.js'

interface ErrorBody { code: string, message: string, run_ids?: string[] }

/** What a replay needs: send one case, get the raw answer. */
export type SendCase = (fixture: Fixture, testCase: ConformanceCase) => Promise<{
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: () => unknown
}>

function expectedError (fixture: Fixture, testCase: ConformanceCase): { message: string, message_prefix: string } {
  return JSON.parse(readFileSync(join(fixture.dir, testCase.expected), 'utf8')) as { message: string, message_prefix: string }
}

/**
 * Register one test per conformance case of `fixture`: ok cases must be byte-identical (after
 * masking the random HF tool-call id); error cases get the status and message of the table in
 * test/fixtures/conformance/README.md, including our deliberate differences (NaN/Infinity and lone
 * surrogates refused, every missing run named, all before the first byte).
 */
export function describeConformance (fixture: Fixture, send: SendCase): void {
  describe(fixture.name, () => {
    for (const testCase of fixture.cases.filter((c) => c.result === 'ok')) {
      it(`${testCase.case_id} matches Kiln's bytes`, async () => {
        const expected = readFileSync(join(fixture.dir, testCase.expected), 'utf8')
        const response = await send(fixture, testCase)
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
        const response = await send(fixture, testCase)
        const body = response.json() as ErrorBody
        expect(response.headers['content-type']).toMatch(/^application\/json/)
        expect(response.headers['content-disposition']).toBeUndefined()
        switch (testCase.error_kind) {
          case 'unknown_split':
            expect(response.status).toBe(404)
            expect(body.code).toBe('KEX_SPLIT_NOT_FOUND')
            // Kiln's message first, then our hint (the dataset and its split names).
            expect(body.message.startsWith(kiln.message)).toBe(true)
            expect(body.message).toContain('its splits are: ')
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
