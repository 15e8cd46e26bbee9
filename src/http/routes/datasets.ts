import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { ValidationReportErrorsError, listedProblem } from '../../errors.js'
import { prepareExport, type ExportTuning } from '../../export/prepare-export.js'
import { exportParams } from '../../export/request-params.js'
import { DatasetSummarySchema } from '../../source/summary.js'
import { type DatasetCatalog } from '../../source/types.js'
import { type ValidationReport } from '../../validate/index.js'
import { sendJsonl } from '../jsonl-reply.js'
import { datasetNotFound, resolveSource } from '../resolve-source.js'
import { AMBIGUOUS_DESCRIPTION, ErrorWithReportSchema, errorExample, errorResponse } from '../schemas/error-response.js'
import { ADDED_EXAMPLES, DatasetParamsSchema, EXPORT_SUCCESS_EXAMPLE, ExportQuerySchema, PREFERENCE_LINE_EXAMPLES, exportRequestSchema, type FormatName } from '../schemas/export-request.js'
import { ProjectProblemSchema } from '../schemas/project-problem.js'

/** Options of the datasets routes. */
export interface DatasetRoutesOptions {
  /** The mounted Kiln projects; without it only inline exports work. */
  readonly catalog?: DatasetCatalog
  readonly tuning?: ExportTuning
  /** The format names requests may use. */
  readonly formats: readonly FormatName[]
}

/** The 422 message of a strict export refused by its report: the counts and the first error. */
function refusalMessage (report: ValidationReport): string {
  const first = report.splits.flatMap((split) => split.problems).find((problem) => problem.severity === 'error')
  const counted = `The validation report has ${report.error_count} error${report.error_count === 1 ? '' : 's'}`
  return first === undefined ? counted : `${counted}; first: ${first.code}${first.run_id === null ? '' : ` (run ${first.run_id})`}: ${first.message}`
}

const PROJECT_FILE_422 = 'A file the dataset split needs (its dataset_split.kiln, task.kiln or project.kiln) cannot be used: not a regular file, ' +
  'over MAX_KILN_FILE_BYTES, or not a valid Kiln file (KEX_KILN_FILE_*; the message names the file).'

/** `POST /datasets/:id/export`: check the whole export, then stream it as JSONL. */
const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, options) => {
  const { catalog } = options

  app.get('/datasets', {
    schema: {
      operationId: 'listDatasets',
      summary: 'List the dataset splits of the mounted Kiln projects',
      description: 'Every dataset split found under KILN_PROJECTS_DIR, read fresh from disk on each call. A file that cannot be used ' +
        '(not a regular file, over its size limit, not a valid Kiln file) leaves out only what needs it, and is named in `problems`.',
      tags: ['datasets'],
      response: {
        200: Type.Object({
          datasets: Type.Array(DatasetSummarySchema),
          problems: Type.Array(ProjectProblemSchema, { description: 'Files that kept dataset splits out of `datasets`, in path order; empty when all is well.' })
        })
      }
    }
  }, async () => {
    const listing = catalog === undefined ? { datasets: [], problems: [] } : await catalog.list()
    return { datasets: listing.datasets, problems: listing.problems.map(listedProblem) }
  })

  app.get('/datasets/:id', {
    schema: {
      operationId: 'getDataset',
      summary: 'Describe one dataset split of the mounted Kiln projects',
      tags: ['datasets'],
      params: DatasetParamsSchema,
      response: {
        200: DatasetSummarySchema,
        400: errorResponse('Invalid id.'),
        404: errorResponse('Unknown dataset split.'),
        409: errorResponse(AMBIGUOUS_DESCRIPTION),
        422: errorResponse(PROJECT_FILE_422)
      }
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
            'x-export-skipped-run-count': Type.String({ description: 'Preference formats only: the runs of the split that make no pair (skipped; POST /datasets/{id}/validate lists them)' }),
            trailer: Type.String({
              description: 'Announces the X-Export-Lines and X-Export-SHA256 trailers, sent after the body: the line count and hex SHA-256 of the bytes actually sent ' +
                '(preference formats add X-Export-Skipped-Runs, the skipped-run count). ' +
                'HTTP/1.1 only: an HTTP/1.0 answer has no chunked framing and no trailers, and ends when the connection closes.'
            })
          },
          content: {
            'application/jsonl': {
              schema: Type.String({ description: 'JSONL' }),
              // The first line of each request example: the mounted one's, the added formats', then one per preference format.
              examples: {
                mounted_example_project: { summary: 'First line of the mounted example', value: EXPORT_SUCCESS_EXAMPLE },
                ...Object.fromEntries(Object.entries(ADDED_EXAMPLES).map(([name, { summary, line }]) => [name, { summary, value: line }])),
                ...Object.fromEntries(Object.entries(PREFERENCE_LINE_EXAMPLES).map(([format, line]) => [format, { summary: `A preference pair (${format})`, value: line }]))
              }
            }
          }
        },
        400: errorResponse('Invalid request: schema violation, malformed JSON, JSON nested deeper than 1000 levels, or a dataset id mismatch.',
          errorExample(400, 'Bad Request', 'KEX_VALIDATION_FAILED', `body/format must be one of: ${options.formats.join(', ')}; did you mean openai_chat_jsonl?`)),
        404: errorResponse('Unknown dataset split, or unknown split name (Kiln: `Split <name> not found in dataset`).',
          errorExample(404, 'Not Found', 'KEX_SPLIT_NOT_FOUND', 'Split Train not found in dataset "Jokes v1" (150621256807): its splits are: train, test (case-sensitive)')),
        409: errorResponse(AMBIGUOUS_DESCRIPTION,
          errorExample(409, 'Conflict', 'KEX_DATASET_AMBIGUOUS', 'Dataset split 150621256807 is in 2 split files: "Joke Lab/tasks/…/dataset_split.kiln" and "Joke Lab copy/tasks/…/dataset_split.kiln". Mount only one of the projects, or remove the copied split folder')),
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
            'a preference export whose split makes no pair at all (KEX_NO_PREFERENCE_PAIRS, an empty split too); ' +
            'a mounted file that cannot be used (KEX_KILN_FILE_*, naming it); ' +
            'or, with ?validate=strict, KEX_VALIDATION_REPORT_ERRORS with the validation report (KEX_VALIDATION_TOO_LARGE when it would need more work than VALIDATE_MAX_CHARS allows).'
        },
        503: errorResponse('Retry after Retry-After seconds: too many exports running (KEX_TOO_MANY_EXPORTS), the service under pressure (KEX_OVERLOADED) ' +
          'or out of file handles (KEX_OUT_OF_FILE_HANDLES), shutting down (KEX_SHUTTING_DOWN), or the export still checking at EXPORT_DEADLINE_MS (KEX_EXPORT_DEADLINE). ' +
          'A stream stopped after its headers (past EXPORT_DEADLINE_MS, or too slow a reader while other exports wait) is cut instead, without its final chunk and trailers.',
        errorExample(503, 'Service Unavailable', 'KEX_TOO_MANY_EXPORTS', '4 exports are already running (MAX_CONCURRENT_EXPORTS): retry later'))
      }
    }
  }, async (request, reply) => {
    const { body } = request
    // Its signal stops the work when the client goes away or the slot cuts the export.
    const lease = app.exportSlots.acquire(reply)
    const { signal } = lease
    const source = await resolveSource(request.params.id, body, catalog)
    const started = performance.now()
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return
      const ms = Math.round(performance.now() - started)
      if (lease.cutReason === undefined) request.log.info({ dataset: request.params.id, ms }, 'export aborted: the client went away')
      else request.log.info({ dataset: request.params.id, ms, reason: lease.cutReason }, 'export cut')
    })
    const params = exportParams(body)
    const { query } = request
    if (query.validate === 'strict') {
      const choice = { ...(query.provider_profile === undefined ? {} : { profile: query.provider_profile }), ...(query.model === undefined ? {} : { model: query.model }) }
      const report = await app.datasetValidator.validate(source, params, choice, signal, 'querystring')
      if (report.status === 'errors') throw new ValidationReportErrorsError(refusalMessage(report), report)
      request.log.info({ dataset: request.params.id, warnings: report.warning_count }, 'export validated')
    }
    const prepared = await prepareExport(source, params, { ...options.tuning, signal })
    const logFields = { dataset: request.params.id, split: body.split_name, format: body.format, lines: prepared.lineCount }
    reply.raw.once('finish', () => {
      request.log.info({ ...logFields, ms: Math.round(performance.now() - started) }, 'export finished')
    })
    request.log.info(logFields, 'export started')
    return sendJsonl(reply, prepared, lease)
  })
}

// Encapsulated (the routes' hooks and schemas stay inside), with a name and the decorations it uses.
export default fp(datasetRoutes, { name: 'datasets-routes', encapsulate: true, dependencies: ['export-slots', 'dataset-validator'] })
