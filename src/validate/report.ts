import { Type, type Static } from 'typebox'
import { PROVIDER_PROFILES } from './profiles.js'

/*
 * The validation report's JSON shape, one definition for the TypeScript types, the HTTP response
 * schema and the OpenAPI document.
 */

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]> (schema: T) => Type.Union([schema, Type.Null()])

export const SEVERITIES = ['error', 'warning'] as const
export const STATUSES = ['ok', 'warnings', 'errors'] as const
export const SPLIT_ROLES = ['training', 'validation', 'test'] as const

export const ReportProblemSchema = Type.Object({
  run_id: Nullable(Type.String({ description: 'The run the problem is about; null for a problem of the whole split.' })),
  line: Nullable(Type.Integer({ minimum: 1, description: 'The line of the export file (1-based, split order) the run makes; null for the whole split.' })),
  severity: Type.Enum(SEVERITIES, { description: 'error: the split will not train as it is (or the export refuses it); warning: it may train badly.' }),
  code: Type.String({ description: 'Stable code: KEX_* is the export\'s own error (same code and message); see the README for the others.' }),
  message: Type.String()
})

export const TokenStatsSchema = Type.Object({
  tokenizer: Type.String({ description: 'The encoding the counts use (o200k_base, cl100k_base).' }),
  examples: Type.Integer({ description: 'Lines counted (the lines that format).' }),
  total: Type.Integer(),
  min: Type.Integer(),
  mean: Type.Number(),
  p50: Type.Number(),
  p95: Type.Number({ description: 'Percentiles interpolate linearly between ranks (numpy\'s default).' }),
  max: Type.Integer(),
  limit: Nullable(Type.Integer({ description: 'The profile\'s tokens-per-example limit, or null for none.' })),
  over_limit: Type.Integer({ description: 'Examples over the limit.' })
}, { description: 'Tokens per example, counted as OpenAI\'s cookbook counts chat examples (3 per message, 1 per name, 3 for the reply priming).' })

export const CostSchema = Type.Object({
  billed_tokens_per_epoch: Type.Integer({ description: 'Every example\'s tokens, capped at the per-example limit.' }),
  epochs: Type.Integer(),
  epochs_source: Type.Enum(['request', 'profile_default', 'openai_auto'] as const, {
    description: 'request: the epochs you sent; openai_auto: OpenAI\'s default for this many examples (3, kept between 100 and 25,000 example passes); profile_default: the profile\'s assumption.'
  }),
  billed_tokens: Type.Integer({ description: 'billed_tokens_per_epoch x epochs.' }),
  price_per_million_tokens: Nullable(Type.Number()),
  currency: Nullable(Type.String()),
  price_source: Nullable(Type.String({ description: 'Where the price comes from: the price table and its date, or the request.' })),
  estimated_cost: Nullable(Type.Number({ description: 'billed_tokens x price_per_million_tokens / 1,000,000; null without a price.' }))
}, { description: 'An estimate, not a quote.' })

export const SplitReportSchema = Type.Object({
  name: Type.String(),
  role: Type.Enum(SPLIT_ROLES, { description: 'From the split name: val/valid/validation/dev are validation, test/eval/holdout are test, anything else is training.' }),
  status: Type.Enum(STATUSES),
  run_count: Type.Integer({ description: 'Run ids the split lists (repeats counted): the lines of its export.' }),
  line_count: Type.Integer({ description: 'Lines that format (the export writes them only when it has no KEX_ problem).' }),
  exportable: Type.Boolean({ description: 'False when the export would refuse the split (a KEX_ problem).' }),
  error_count: Type.Integer(),
  warning_count: Type.Integer(),
  problem_counts: Type.Unsafe<Record<string, number>>({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Every problem found, by code (complete even when problems is cut).' }),
  problems: Type.Array(ReportProblemSchema, { description: 'Split-wide problems first, then per line in split order (at most 1000 per split).' }),
  problems_truncated: Type.Boolean(),
  tokens: Nullable(TokenStatsSchema),
  cost: Nullable(CostSchema)
})

export const ProfileInfoSchema = Type.Object({
  name: Type.Enum(PROVIDER_PROFILES),
  title: Type.String(),
  model: Type.String(),
  tokenizer: Type.String(),
  max_tokens_per_example: Nullable(Type.Integer()),
  min_training_examples: Nullable(Type.Integer()),
  max_training_examples: Nullable(Type.Integer()),
  max_validation_examples: Nullable(Type.Integer()),
  as_of: Type.String({ description: 'Date of the profile data (data/provider-profiles.json).' }),
  status: Type.Enum(['available', 'closing', 'closed'] as const, { description: 'Whether the provider still takes fine-tuning jobs; closing and closed add a PROFILE_CLOSING or PROFILE_CLOSED warning to every split.' }),
  models_checked_on: Type.String({ description: 'When the profile\'s model list was last compared with the provider\'s page.' })
})

export const ValidationReportSchema = Type.Object({
  dataset: Type.Object({ id: Type.String(), name: Type.String() }),
  format: Type.String(),
  data_strategy: Type.String(),
  provider_profile: ProfileInfoSchema,
  status: Type.Enum(STATUSES, { description: 'errors when any split has an error; warnings when any has a warning; else ok.' }),
  error_count: Type.Integer(),
  warning_count: Type.Integer(),
  estimated_cost: Nullable(Type.Number({ description: 'Sum of the training splits\' estimates; null without a price or a training split.' })),
  currency: Nullable(Type.String()),
  summary: Type.Array(Type.String(), { description: 'One line per split, for people.' }),
  splits: Type.Array(SplitReportSchema),
  notes: Type.Array(Type.String(), { description: 'What the estimates rest on.' })
}, { description: 'A validation report: whether each split will train on the profile\'s provider, its tokens and estimated cost.' })

export type ReportProblem = Static<typeof ReportProblemSchema>
export type TokenStats = Static<typeof TokenStatsSchema>
export type SplitReport = Static<typeof SplitReportSchema>
export type ValidationReport = Static<typeof ValidationReportSchema>
export type SplitRole = typeof SPLIT_ROLES[number]
export type ReportStatus = typeof STATUSES[number]
