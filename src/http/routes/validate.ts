import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { type ProfileRequest } from '../../validate/dataset-validator.js'
import { exportParams } from '../../export/request-params.js'
import { type DatasetCatalog } from '../../source/types.js'
import { ValidationReportSchema } from '../../validate/index.js'
import { profileList } from '../profile-list.js'
import { resolveSource } from '../resolve-source.js'
import { AMBIGUOUS_DESCRIPTION, errorResponse } from '../schemas/error-response.js'
import { DatasetParamsSchema, type FormatName } from '../schemas/export-request.js'
import { REPORT_EXAMPLE } from '../schemas/report-example.js'
import { validateRequestSchema, type ValidateRequest } from '../schemas/validate-request.js'
import { ProfileListSchema } from '../schemas/validation-profiles.js'

/** Options of the validation routes. */
export interface ValidateRoutesOptions {
  /** The mounted Kiln projects; without it only inline bodies work. */
  readonly catalog?: DatasetCatalog
  /** The format names requests may use. */
  readonly formats: readonly FormatName[]
}

function profileRequest (body: ValidateRequest): ProfileRequest {
  return {
    ...(body.provider_profile === undefined ? {} : { profile: body.provider_profile }),
    ...(body.model === undefined ? {} : { model: body.model }),
    ...(body.epochs === undefined ? {} : { epochs: body.epochs }),
    ...(body.price_per_million_tokens === undefined ? {} : { pricePerMillionTokens: body.price_per_million_tokens }),
    ...(body.max_tokens_per_example === undefined ? {} : { maxTokensPerExample: body.max_tokens_per_example })
  }
}

/** `POST /datasets/:id/validate` and `GET /validation/profiles`. */
const validateRoutes: FastifyPluginAsyncTypebox<ValidateRoutesOptions> = async (app, options) => {
  const { catalog } = options
  const profiles = profileList(app.datasetValidator.data)

  app.get('/validation/profiles', {
    schema: {
      operationId: 'listValidationProfiles',
      summary: 'List the provider profiles a validation can check',
      description: 'Each profile\'s rules, models (token limits, tokenizer, training price) and the sources they come from, with the dates of the data.',
      tags: ['validation'],
      response: { 200: ProfileListSchema }
    }
  }, async () => profiles)

  app.post('/datasets/:id/validate', {
    schema: {
      operationId: 'validateDataset',
      summary: 'Validate a dataset split for fine-tuning: problems, provider rules, tokens and cost',
      description:
        'Formats every run of the requested split (or of every split) exactly as the export would, and reports, per split: every problem ' +
        '(the export\'s own errors with their KEX_ codes, empty outputs, repeated runs, runs in two splits, identical inputs with different ' +
        'outputs, the provider profile\'s rules checked on the exact lines, examples over the token limit), token counts per example ' +
        '(min, mean, p50, p95, max) and an estimated training cost. Answers 200 with the report even when the data has problems; ' +
        'request errors (bad parameters, unknown dataset or split) are 4xx as for the export.',
      tags: ['validation'],
      params: DatasetParamsSchema,
      body: validateRequestSchema(options.formats),
      response: {
        200: { ...ValidationReportSchema, examples: [REPORT_EXAMPLE] },
        400: errorResponse('Invalid request: schema violation, malformed JSON, JSON nested deeper than 1000 levels, a dataset id mismatch, a model the profile does not list, or a data strategy the format does not take (GET /formats).'),
        404: errorResponse('Unknown dataset split, or unknown split name.'),
        409: errorResponse(AMBIGUOUS_DESCRIPTION),
        413: errorResponse('Request body over BODY_LIMIT.'),
        415: errorResponse('Content-Type is not application/json.'),
        422: errorResponse('A mounted file the dataset split needs (dataset_split.kiln, task.kiln, project.kiln) cannot be used (KEX_KILN_FILE_*; the message names the file), ' +
          'or the report would need more work than VALIDATE_MAX_CHARS allows (KEX_VALIDATION_TOO_LARGE; the message says how to get under it). Problems of run files are in the report.'),
        503: errorResponse('Retry after Retry-After seconds: too many exports or validations running (KEX_TOO_MANY_EXPORTS), the service under pressure ' +
          '(KEX_OVERLOADED) or out of file handles (KEX_OUT_OF_FILE_HANDLES), shutting down (KEX_SHUTTING_DOWN), or running past EXPORT_DEADLINE_MS (KEX_EXPORT_DEADLINE).')
      }
    }
  }, async (request, reply) => {
    const { body } = request
    const { signal } = app.exportSlots.acquire(reply)
    const source = await resolveSource(request.params.id, body, catalog)
    const started = performance.now()
    const report = await app.datasetValidator.validate(source, exportParams(body), profileRequest(body), signal)
    request.log.info({
      dataset: request.params.id,
      profile: report.provider_profile.name,
      splits: report.splits.length,
      errors: report.error_count,
      warnings: report.warning_count,
      ms: Math.round(performance.now() - started)
    }, 'validation finished')
    return report
  })
}

// Encapsulated (the routes' hooks and schemas stay inside), with a name and the decorations it uses.
export default fp(validateRoutes, { name: 'validate-routes', encapsulate: true, dependencies: ['export-slots', 'dataset-validator'] })
