import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { resolveFormat } from '../../format/index.js'
import { type DatasetCatalog } from '../../source/types.js'
import { PROVIDER_PROFILES, ValidationReportSchema, formatsOfProfile, type ValidationParams, type ValidationReport } from '../../validate/index.js'
import { createDatasetValidator, type ProfileRequest } from '../../validate/dataset-validator.js'
import { resolveSource } from '../resolve-source.js'
import { ErrorResponseSchema } from '../schemas/error-response.js'
import { DatasetParamsSchema, type FormatName } from '../schemas/export-request.js'
import { validateRequestSchema, type ValidateRequest } from '../schemas/validate-request.js'

/** Options of the validation routes. */
export interface ValidateRoutesOptions {
  /** The mounted Kiln projects; without it only inline bodies work. */
  readonly catalog?: DatasetCatalog
  /** The format names requests may use. */
  readonly formats: readonly FormatName[]
  /** A price table used instead of data/prices.json (PRICES_FILE). */
  readonly pricesFile?: string
  /** VALIDATE_MAX_CHARS: characters of work per validation report. */
  readonly maxWorkChars?: number
}

const errorResponse = (description: string) => ({ ...ErrorResponseSchema, description })

/**
 * The report of the example project's train split (`npm start`, body {"split_name": "train", "format":
 * "openai_chat_json_schema_jsonl", "system_message": "Write a one-line joke about the topic."}), for the
 * OpenAPI document; test/http/validate.test.ts checks that the service answers exactly this.
 */
export const REPORT_EXAMPLE: ValidationReport = {
  dataset: { id: '150621256807', name: 'Jokes v1' },
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_only',
  provider_profile: {
    name: 'openai',
    title: 'OpenAI supervised fine-tuning (chat)',
    model: 'gpt-4o-mini-2024-07-18',
    tokenizer: 'o200k_base',
    max_tokens_per_example: 65536,
    min_training_examples: 10,
    max_validation_examples: null,
    as_of: '2026-11-26'
  },
  status: 'errors',
  error_count: 1,
  warning_count: 0,
  estimated_cost: 0.014688,
  currency: 'USD',
  summary: ['train [training]: FAILS (1 error, 0 warnings); 6 examples, 306 tokens; estimated 0.014688 USD (4,896 billed tokens, 16 epochs)'],
  splits: [{
    name: 'train',
    role: 'training',
    status: 'errors',
    run_count: 6,
    line_count: 6,
    exportable: true,
    error_count: 1,
    warning_count: 0,
    problem_counts: { TOO_FEW_TRAINING_EXAMPLES: 1 },
    problems: [{ run_id: null, line: null, severity: 'error', code: 'TOO_FEW_TRAINING_EXAMPLES', message: '6 examples: OpenAI supervised fine-tuning (chat) needs at least 10' }],
    problems_truncated: false,
    tokens: { tokenizer: 'o200k_base', examples: 6, total: 306, min: 45, mean: 51, p50: 49.5, p95: 60.5, max: 64, limit: 65536, over_limit: 0 },
    cost: {
      billed_tokens_per_epoch: 306,
      epochs: 16,
      epochs_source: 'openai_auto',
      billed_tokens: 4896,
      price_per_million_tokens: 3,
      currency: 'USD',
      price_source: 'data/prices.json as of 2026-11-26, confidence high',
      estimated_cost: 0.014688
    }
  }],
  notes: [
    'Tokens are counted with o200k_base the way OpenAI\'s cookbook counts chat examples (3 per message, 1 per name, 3 for the reply priming).',
    'Cost = billed tokens x epochs x 3 USD per million (data/prices.json as of 2026-11-26, confidence high): an estimate, not a quote.'
  ]
}

const ModelInfoSchema = Type.Object({
  name: Type.String(),
  tokenizer: Type.String(),
  max_tokens_per_example: Type.Union([Type.Integer(), Type.Null()]),
  max_validation_examples: Type.Union([Type.Integer(), Type.Null()]),
  price_per_million_tokens: Type.Union([Type.Number(), Type.Null()], { description: 'From the price table; null when it has none.' }),
  note: Type.Optional(Type.String())
})

const ProfileListSchema = Type.Object({
  as_of: Type.String({ description: 'Date of the profile data.' }),
  prices_as_of: Type.String({ description: 'Date of the price table.' }),
  currency: Type.String(),
  notes: Type.Array(Type.String()),
  profiles: Type.Array(Type.Object({
    name: Type.Enum(PROVIDER_PROFILES),
    title: Type.String(),
    formats: Type.Array(Type.String(), { description: 'The formats whose lines this provider reads.' }),
    default_model: Type.String(),
    min_training_examples: Type.Union([Type.Integer(), Type.Null()]),
    recommended_min_training_examples: Type.Union([Type.Integer(), Type.Null()]),
    over_token_limit: Type.String({ description: 'What the provider does with a longer example: truncated, rejected or unknown.' }),
    default_epochs: Type.Union([Type.Integer(), Type.Literal('openai_auto')]),
    models: Type.Array(ModelInfoSchema),
    sources: Type.Array(Type.Object({ url: Type.String(), for: Type.String() }))
  }))
})

/** The export parameters of a validation request. */
function validationParams (body: ValidateRequest): ValidationParams {
  return {
    ...(body.split_name === undefined ? {} : { splitName: body.split_name }),
    // The schema only lets through names that resolve.
    format: resolveFormat(body.format) ?? 'openai_chat_jsonl',
    dataStrategy: body.data_strategy ?? 'final_only',
    systemMessage: body.system_message,
    thinkingInstructions: body.thinking_instructions ?? null,
    includeToolCalls: body.include_tool_calls ?? true,
    tools: body.tools ?? null
  }
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
  const validator = await createDatasetValidator(options.pricesFile, { maxWorkChars: options.maxWorkChars })
  const { profiles, prices } = validator.data

  const profileList = {
    as_of: profiles.as_of,
    prices_as_of: prices.as_of,
    currency: prices.currency,
    notes: [...profiles.notes, ...(prices.notes ?? [])],
    profiles: PROVIDER_PROFILES.map((name) => {
      const profile = profiles.profiles[name]
      const priced = prices.providers[name]?.models ?? {}
      return {
        name,
        title: profile.title,
        formats: formatsOfProfile(name),
        default_model: profile.default_model,
        min_training_examples: profile.min_training_examples,
        recommended_min_training_examples: profile.recommended_min_training_examples,
        over_token_limit: profile.over_token_limit,
        default_epochs: profile.default_epochs,
        models: Object.entries(profile.models).map(([model, limits]) => ({
          name: model,
          tokenizer: limits.tokenizer,
          max_tokens_per_example: limits.max_tokens_per_example,
          max_validation_examples: limits.max_validation_examples,
          price_per_million_tokens: Object.hasOwn(priced, model) ? priced[model]?.training_per_million_tokens ?? null : null,
          ...(limits.note === undefined ? {} : { note: limits.note })
        })),
        sources: profile.sources
      }
    })
  }

  app.get('/validation/profiles', {
    schema: {
      operationId: 'listValidationProfiles',
      summary: 'List the provider profiles a validation can check',
      description: 'Each profile\'s rules, models (token limits, tokenizer, training price) and the sources they come from, with the dates of the data.',
      tags: ['validation'],
      response: { 200: ProfileListSchema }
    }
  }, async () => profileList)

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
        409: errorResponse('The dataset split id is in more than one split file under KILN_PROJECTS_DIR (a copied project or folder): KEX_DATASET_AMBIGUOUS, naming them.'),
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
    const report = await validator.validate(source, validationParams(body), profileRequest(body), signal)
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

export default validateRoutes
