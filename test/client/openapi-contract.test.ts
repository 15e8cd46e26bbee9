import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { CLIENT_OPERATIONS, KilnExportApiError, KilnExportClient, type ApiErrorBody, type ExportParams } from '../../src/client/index.js'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { REPORT_EXAMPLE } from '../../src/http/schemas/report-example.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { startServer } from '../helpers/server.js'

/*
 * The client against the committed OpenAPI document: every call it makes is a documented
 * operation, its error type reads the documented error body, and what the service answers the
 * client validates against the document's schemas.
 */

interface JsonSchema { properties?: Record<string, unknown>, required?: string[] }
interface Operation {
  operationId?: string
  requestBody?: { content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>
}
const doc = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>
}

function operation (name: keyof typeof CLIENT_OPERATIONS): Operation {
  const { method, path } = CLIENT_OPERATIONS[name]
  const found = doc.paths[path]?.[method.toLowerCase()]
  if (found === undefined) throw new Error(`${method} ${path} is not in openapi.json`)
  return found
}

function jsonSchema (op: Operation, status: string): JsonSchema {
  const schema = op.responses[status]?.content?.['application/json']?.schema
  if (schema === undefined) throw new Error(`no application/json schema for ${status}`)
  return schema
}

const ajv = new Ajv({ strict: false, allErrors: true })
function expectValid (schema: JsonSchema, value: unknown): void {
  const validate = ajv.compile(schema)
  expect(validate(value), ajv.errorsText(validate.errors)).toBe(true)
}

/** An error body with every field set: it must compile as the client's ApiErrorBody. */
const FULL_ERROR: Required<ApiErrorBody> = {
  statusCode: 422,
  error: 'Unprocessable Entity',
  code: 'KEX_OUTPUT_NOT_JSON',
  message: 'Invalid JSON in JSON Schema training set: ...',
  run_ids: ['1', '3'],
  problems: [{ run_id: '1', code: 'KEX_OUTPUT_NOT_JSON', message: 'm1' }, { run_id: '3', code: 'KEX_OUTPUT_NOT_JSON', message: 'm3' }],
  report: REPORT_EXAMPLE
}
/** The same without the validation report, which only a strict export's 422 carries. */
const PLAIN_ERROR: ApiErrorBody = Object.fromEntries(Object.entries(FULL_ERROR).filter(([key]) => key !== 'report')) as ApiErrorBody

describe('the client and openapi/openapi.json', () => {
  it('call only documented operations, under their operationId', () => {
    for (const name of Object.keys(CLIENT_OPERATIONS) as Array<keyof typeof CLIENT_OPERATIONS>) {
      expect(operation(name).operationId).toBe(name)
    }
    for (const name of Object.keys(CLIENT_OPERATIONS)) {
      expect(typeof KilnExportClient.prototype[name as keyof KilnExportClient]).toBe('function')
    }
  })

  it('agree on the error body: every documented error answer has exactly the fields KilnExportApiError reads', () => {
    for (const name of ['getDataset', 'exportDataset', 'validateDataset'] as const) {
      const op = operation(name)
      const statuses = Object.keys(op.responses).filter((s) => !s.startsWith('2'))
      expect(statuses.length).toBeGreaterThan(0)
      for (const status of statuses) {
        const schema = jsonSchema(op, status)
        // Only the export's 422 may carry a validation report (?validate=strict).
        const expected = name === 'exportDataset' && status === '422' ? FULL_ERROR : PLAIN_ERROR
        expect(Object.keys(schema.properties ?? {}).sort(), `${name} ${status}`).toEqual(Object.keys(expected).sort())
        expect(schema.required?.sort()).toEqual(['code', 'error', 'message', 'statusCode'])
        expectValid(schema, expected)
      }
    }
    const err = new KilnExportApiError(422, FULL_ERROR, { 'x-request-id': 'r1' })
    expect(err).toMatchObject({
      status: 422, code: FULL_ERROR.code, message: FULL_ERROR.message, runIds: FULL_ERROR.run_ids, problems: FULL_ERROR.problems, requestId: 'r1', report: REPORT_EXAMPLE
    })
  })

  it('agree on the export body\'s required fields', () => {
    const minimal: ExportParams = { split_name: 'train', format: 'openai_chat_jsonl', system_message: '' }
    const schema = operation('exportDataset').requestBody?.content['application/json']?.schema
    expect(schema?.required?.sort()).toEqual(Object.keys(minimal).sort())
  })

  it('get answers that match the documented response schemas', async () => {
    const { origin } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const api = new KilnExportClient({ baseUrl: origin })
    // The client returns the datasets only; the listing's `problems` are shown by GET /datasets.
    expectValid(jsonSchema(operation('listDatasets'), '200'), { datasets: await api.listDatasets(), problems: [] })
    expectValid(jsonSchema(operation('getDataset'), '200'), await api.getDataset('150621256807'))
    expectValid(jsonSchema(operation('listFormats'), '200'), { formats: await api.listFormats() })
    expectValid(jsonSchema(operation('health'), '200'), await api.health())
    expectValid(jsonSchema(operation('ready'), '200'), await api.ready())
    const params = { split_name: 'train', format: 'openai_chat_json_schema_jsonl', system_message: 'Write a one-line joke about the topic.' } as const
    const report = await api.validateDataset('150621256807', params)
    expectValid(jsonSchema(operation('validateDataset'), '200'), report)
    expect(report).toEqual(REPORT_EXAMPLE)
    // Two examples are too few for the format's profile (fireworks: at least 3): the strict export is refused with the report.
    const tooFew = inlineBody([kilnRun('1'), kilnRun('2')]) as unknown as ExportParams
    const strict = await api.openExport('100000000001', tooFew, { validate: 'strict' }).catch((e: unknown) => e) as KilnExportApiError
    expect(strict).toMatchObject({ status: 422, code: 'KEX_VALIDATION_REPORT_ERRORS', report: { provider_profile: { name: 'fireworks' }, status: 'errors' } })
    expectValid(jsonSchema(operation('validateDataset'), '200'), strict.report)

    const notFound = await api.getDataset('404404404404').catch((e: unknown) => e)
    expect(notFound).toBeInstanceOf(KilnExportApiError)
    const refused = await api.openExport('100000000001', inlineBody([kilnRun('1', { output: 'x' })], { format: 'openai_chat_toolcall_jsonl' }) as ExportParams)
      .catch((e: unknown) => e) as KilnExportApiError
    expect(refused.status).toBe(422)
    expectValid(jsonSchema(operation('exportDataset'), '422'), {
      statusCode: refused.status,
      error: 'Unprocessable Entity',
      code: refused.code,
      message: refused.message,
      run_ids: refused.runIds,
      problems: refused.problems
    })
  })
})
