import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ValidationReportErrorsError } from '../../errors.js'
import { prepareExport, type ExportParams, type ExportTuning } from '../../export/prepare-export.js'
import { resolveFormat } from '../../format/index.js'
import { type DatasetCatalog } from '../../source/types.js'
import { PROVIDER_PROFILES, type ValidationReport } from '../../validate/index.js'
import { createDatasetValidator } from '../../dataset-validator.js'
import { sendJsonl } from '../jsonl-reply.js'
import { datasetNotFound, resolveSource } from '../resolve-source.js'
import { ErrorResponseSchema, ErrorWithReportSchema, type ErrorResponse } from '../schemas/error-response.js'
import { DatasetParamsSchema, EXPORT_SUCCESS_EXAMPLE, exportRequestSchema, type FormatName } from '../schemas/export-request.js'

/** Options of the datasets routes. */
export interface DatasetRoutesOptions {
  /** The mounted Kiln projects; without it only inline exports work. */
  readonly catalog?: DatasetCatalog
  readonly tuning?: ExportTuning
  /** The format names requests may use. */
  readonly formats: readonly FormatName[]
  /** A price table used instead of data/prices.json (PRICES_FILE), for `?validate=strict`. */
  readonly pricesFile?: string
}

/** `?validate=strict`: validate first, refuse when the report has errors. Unknown parameters are a 400, so a misspelt one never skips the check. */
const ExportQuerySchema = Type.Object({
  validate: Type.Optional(Type.Enum(['strict'] as const, {
    type: 'string',
    description: 'strict: validate the split first (as POST /datasets/{id}/validate) and refuse with 422 KEX_VALIDATION_REPORT_ERRORS and the report when it has errors.'
  })),
  provider_profile: Type.Optional(Type.Enum(PROVIDER_PROFILES, { type: 'string', description: 'With validate=strict: whose rules to check (default: the format\'s profile).' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'With validate=strict: the profile\'s model (default: its default model).' }))
}, { additionalProperties: false })

/** The 422 message of a strict export refused by its report: the counts and the first error. */
function refusalMessage (report: ValidationReport): string {
  const first = report.splits.flatMap((split) => split.problems).find((problem) => problem.severity === 'error')
  const counted = `The validation report has ${report.error_count} error${report.error_count === 1 ? '' : 's'}`
  return first === undefined ? counted : `${counted}; first: ${first.code}${first.run_id === null ? '' : ` (run ${first.run_id})`}: ${first.message}`
}

const SplitSummarySchema = Type.Object({
  name: Type.String({ description: 'A split name (key of split_contents).' }),
  run_count: Type.Integer({ description: 'How many run ids the split lists.' })
})

const DatasetSummarySchema = Type.Object({
  id: Type.String({ description: 'Dataset split id: use it in /datasets/{id}/export.' }),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  project: Type.Object({ id: Type.String(), name: Type.String() }),
  task: Type.Object({
    id: Type.String(),
    name: Type.String(),
    structured_output: Type.Boolean({ description: 'True when the task has an output JSON schema (use a JSON format).' })
  }),
  splits: Type.Array(SplitSummarySchema)
})

const errorResponse = (description: string, example?: ErrorResponse) => ({ ...ErrorResponseSchema, description, ...(example === undefined ? {} : { examples: [example] }) })

/** A real error body of each status, as Swagger UI's example for it. */
const errorExample = (statusCode: number, error: string, code: string, message: string): ErrorResponse => ({ statusCode, error, code, message })

/** `POST /datasets/:id/export`: check the whole export, then stream it as JSONL. */
const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, options) => {
  const { catalog } = options
  const validator = await createDatasetValidator(options.pricesFile)

  app.get('/datasets', {
    schema: {
      operationId: 'listDatasets',
      summary: 'List the dataset splits of the mounted Kiln projects',
      description: 'Every dataset split found under KILN_PROJECTS_DIR, read fresh from disk on each call.',
      tags: ['datasets'],
      response: { 200: Type.Object({ datasets: Type.Array(DatasetSummarySchema) }) }
    }
  }, async () => ({ datasets: catalog === undefined ? [] : await catalog.list() }))

  app.get('/datasets/:id', {
    schema: {
      operationId: 'getDataset',
      summary: 'Describe one dataset split of the mounted Kiln projects',
      tags: ['datasets'],
      params: DatasetParamsSchema,
      response: { 200: DatasetSummarySchema, 400: errorResponse('Invalid id.'), 404: errorResponse('Unknown dataset split.') }
    }
  }, async (request) => {
    const summary = await catalog?.describe(request.params.id)
    if (summary === undefined) throw await datasetNotFound(request.params.id, catalog, false)
    return summary
  })

  app.post('/datasets/:id/export', {
    schema: {
      operationId: 'exportDataset',
      summary: 'Export a dataset split as provider JSONL',
      description:
        'Formats every task run of one split, in split order, exactly as Kiln\'s DatasetFormatter.dump_to_file would, ' +
        'and streams the lines as a chunked `application/jsonl` download. Every data error is found before the first ' +
        'byte is sent (422 with the offending run ids). Send `dataset_split` and `task_runs` for an inline export; ' +
        'without them the dataset split is looked up in the mounted Kiln projects. With `?validate=strict` the split is validated first ' +
        '(as POST /datasets/{id}/validate, the format\'s provider profile) and refused with 422 and the report when the report has errors.',
      tags: ['datasets'],
      params: DatasetParamsSchema,
      querystring: ExportQuerySchema,
      body: exportRequestSchema(options.formats),
      response: {
        200: {
          description: 'The training file, one JSON object per line (empty for an empty split).',
          headers: {
            'content-disposition': Type.String({ description: 'attachment with Kiln\'s file name' }),
            'x-export-line-count': Type.String({ description: 'Number of lines the body will hold' }),
            trailer: Type.String({
              description: 'Announces the X-Export-Lines and X-Export-SHA256 trailers, sent after the body: the line count and hex SHA-256 of the bytes actually sent. ' +
                'HTTP/1.1 only: an HTTP/1.0 answer has no chunked framing and no trailers, and ends when the connection closes.'
            })
          },
          content: { 'application/jsonl': { schema: Type.String({ description: 'JSONL' }), example: EXPORT_SUCCESS_EXAMPLE } }
        },
        400: errorResponse('Invalid request: schema violation, malformed JSON, or a dataset id mismatch.',
          errorExample(400, 'Bad Request', 'KEX_VALIDATION_FAILED', `body/format must be one of: ${options.formats.join(', ')}; did you mean openai_chat_jsonl?`)),
        404: errorResponse('Unknown dataset split, or unknown split name (Kiln: `Split <name> not found in dataset`).',
          errorExample(404, 'Not Found', 'KEX_SPLIT_NOT_FOUND', 'Split Train not found in dataset "Jokes v1" (150621256807): its splits are: train, test (case-sensitive)')),
        413: errorResponse('Request body over BODY_LIMIT.',
          errorExample(413, 'Payload Too Large', 'KEX_BODY_TOO_LARGE', 'Request body is larger than the limit of 134217728 bytes (BODY_LIMIT)')),
        415: errorResponse('Content-Type is not application/json.',
          errorExample(415, 'Unsupported Media Type', 'KEX_UNSUPPORTED_MEDIA_TYPE', 'The request has no Content-Type header: send the header Content-Type: application/json')),
        422: {
          ...ErrorWithReportSchema,
          examples: [{
            ...errorExample(422, 'Unprocessable Entity', 'KEX_THINKING_INSTRUCTIONS_REQUIRED', 'Thinking instructions are required when data_strategy is final_and_intermediate'),
            run_ids: ['294770595039']
          }],
          description: 'Data Kiln\'s formatter would reject, checked per run in Kiln\'s order (the first failing run gives the message; run_ids lists them all): ' +
            'missing runs, unresolvable run-config tools, missing or refused thinking instructions, missing or blank thinking data, invalid JSON outputs, ' +
            'mixed tool sets; ' +
            'or, with ?validate=strict, KEX_VALIDATION_REPORT_ERRORS with the validation report.'
        },
        503: errorResponse('Too many exports running, the service is under pressure, or it is shutting down: retry after Retry-After seconds.',
          errorExample(503, 'Service Unavailable', 'KEX_TOO_MANY_EXPORTS', '4 exports are already running (MAX_CONCURRENT_EXPORTS): retry later'))
      }
    }
  }, async (request, reply) => {
    const { body } = request
    app.exportSlots.acquire(reply)
    const source = await resolveSource(request.params.id, body, catalog)
    // Stop work for a client that went away (the response closes before it finished).
    const controller = new AbortController()
    const started = performance.now()
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return
      controller.abort()
      request.log.info({ dataset: request.params.id, ms: Math.round(performance.now() - started) }, 'export aborted: the client went away')
    })
    const params: ExportParams = {
      splitName: body.split_name,
      // The schema only lets through names that resolve.
      format: resolveFormat(body.format) ?? 'openai_chat_jsonl',
      formatName: body.format,
      dataStrategy: body.data_strategy ?? 'final_only',
      systemMessage: body.system_message,
      thinkingInstructions: body.thinking_instructions ?? null,
      includeToolCalls: body.include_tool_calls ?? true,
      tools: body.tools ?? null
    }
    const { query } = request
    if (query.validate === 'strict') {
      const choice = { ...(query.provider_profile === undefined ? {} : { profile: query.provider_profile }), ...(query.model === undefined ? {} : { model: query.model }) }
      const report = await validator.validate(source, params, choice, controller.signal, 'querystring')
      if (report.status === 'errors') throw new ValidationReportErrorsError(refusalMessage(report), report)
      request.log.info({ dataset: request.params.id, warnings: report.warning_count }, 'export validated')
    }
    const prepared = await prepareExport(source, params, { ...options.tuning, signal: controller.signal })
    const logFields = { dataset: request.params.id, split: body.split_name, format: body.format, lines: prepared.lineCount }
    reply.raw.once('finish', () => {
      request.log.info({ ...logFields, ms: Math.round(performance.now() - started) }, 'export finished')
    })
    request.log.info(logFields, 'export started')
    return sendJsonl(reply, prepared)
  })
}

export default datasetRoutes
