import { Type, type Static } from 'typebox'
import { DATASET_FORMATS, FORMATS, PROVIDER_PROFILES, resolveFormat, type DatasetFormat, type LineShape, type ProviderProfileName } from '../format/index.js'
import { PROFILE_RULES } from './providers.js'
import { type TokenizerName, TOKENIZERS } from './tokenizers.js'

/*
 * The reference data of the validation report: provider profiles (data/provider-profiles.json)
 * and training prices (data/prices.json, or PRICES_FILE). Only their shapes live here, with the
 * pure functions that pick a profile for a format and its numbers for a request; reading the
 * files is reference-files.ts's. Which formats a profile reads is no data: each format names its
 * default profile on its registry entry (format/registry.ts), each profile the line shapes it reads
 * (providers.ts).
 */

/** The provider profiles a report can check; each has its own line rules (providers.ts, PROFILE_RULES). */
export { PROVIDER_PROFILES, type ProviderProfileName }

const Nullable = <T extends ReturnType<typeof Type.Integer>> (schema: T) => Type.Union([schema, Type.Null()])

/** A calendar date, YYYY-MM-DD. */
const DateSchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })

const ModelLimitsSchema = Type.Object({
  tokenizer: Type.Enum(TOKENIZERS),
  max_tokens_per_example: Nullable(Type.Integer({ minimum: 1 })),
  max_validation_examples: Nullable(Type.Integer({ minimum: 1 })),
  /** The day the provider retired the model (no new tuning jobs): the report warns. */
  retired: Type.Optional(DateSchema),
  /** The last day the model (and models tuned from it) is announced to stay available: the report warns. */
  available_until: Type.Optional(DateSchema),
  note: Type.Optional(Type.String())
})

/** A provider page a rule or limit was copied from, and when it was read. */
const SourceSchema = Type.Object({
  url: Type.String(),
  for: Type.String(),
  read_on: DateSchema,
  /** The page's own date where it shows one (or what its content implies). */
  page_date: Type.Optional(Type.String())
})

/** Whether the provider still takes fine-tuning jobs: `closing` and `closed` make the report warn. */
const ProfileStatusSchema = Type.Object({
  state: Type.Enum(['available', 'closing', 'closed'] as const),
  /** The day the closing was announced (or the service closed). */
  since: Type.Optional(DateSchema),
  /** The last day jobs can be created, when one is announced. */
  until: Type.Optional(DateSchema),
  note: Type.String(),
  source: Type.String()
})

const ProfileSchema = Type.Object({
  title: Type.String(),
  status: ProfileStatusSchema,
  /** The day the model list was last compared with the provider's page: an old date means a list to re-check. */
  models_checked_on: DateSchema,
  default_model: Type.String(),
  min_training_examples: Nullable(Type.Integer({ minimum: 1 })),
  max_training_examples: Nullable(Type.Integer({ minimum: 1 })),
  recommended_min_training_examples: Nullable(Type.Integer({ minimum: 1 })),
  /** What the provider does with an example over the limit: a warning when truncated or unknown, an error when rejected. */
  over_token_limit: Type.Enum(['truncated', 'rejected', 'unknown'] as const),
  /** A fixed epoch count, or `openai_auto`: OpenAI's default that depends on the number of examples. */
  default_epochs: Type.Union([Type.Literal('openai_auto'), Type.Integer({ minimum: 1 })]),
  epochs_note: Type.Optional(Type.String()),
  models: Type.Unsafe<Record<string, Static<typeof ModelLimitsSchema>>>({ type: 'object', additionalProperties: ModelLimitsSchema, minProperties: 1 }),
  sources: Type.Array(SourceSchema)
})

/** data/provider-profiles.json. */
export const ProviderProfilesSchema = Type.Object({
  as_of: Type.String(),
  notes: Type.Array(Type.String()),
  // One entry per profile name, all required: a new profile needs its data.
  profiles: Type.Object(Object.fromEntries(PROVIDER_PROFILES.map((name) => [name, ProfileSchema])) as Record<ProviderProfileName, typeof ProfileSchema>)
})

const ModelPriceSchema = Type.Object({
  training_per_million_tokens: Type.Number({ minimum: 0 }),
  confidence: Type.Optional(Type.Enum(['high', 'medium', 'low'] as const)),
  note: Type.Optional(Type.String())
})

const ProviderPricesSchema = Type.Object({
  sources: Type.Array(Type.String()),
  models: Type.Unsafe<Record<string, Static<typeof ModelPriceSchema>>>({ type: 'object', additionalProperties: ModelPriceSchema })
})

/** data/prices.json, or the file PRICES_FILE names (same shape). */
export const PriceTableSchema = Type.Object({
  as_of: Type.String({ minLength: 1 }),
  currency: Type.String({ minLength: 1 }),
  unit: Type.Optional(Type.String()),
  notes: Type.Optional(Type.Array(Type.String())),
  providers: Type.Unsafe<Partial<Record<ProviderProfileName, Static<typeof ProviderPricesSchema>>>>({
    type: 'object',
    additionalProperties: ProviderPricesSchema
  })
})

export type ProviderProfiles = Static<typeof ProviderProfilesSchema>
export type ProviderProfile = Static<typeof ProfileSchema>
export type PriceTable = Static<typeof PriceTableSchema>

/** The profile data and the prices, as loaded once by the service. */
export interface ReferenceData {
  readonly profiles: ProviderProfiles
  readonly prices: PriceTable
  /** Where the prices came from, for the report: `data/prices.json` or the PRICES_FILE path. */
  readonly pricesName: string
}

/** How many epochs the estimate assumes, and why. */
export type EpochsChoice =
  | { readonly source: 'request', readonly value: number }
  | { readonly source: 'profile_default', readonly value: number }
  | { readonly source: 'openai_auto' }

/** A profile's numbers for one request: the model's limits, the price and the epochs. */
export interface ResolvedProfile {
  readonly name: ProviderProfileName
  readonly title: string
  readonly model: string
  readonly tokenizer: TokenizerName
  readonly maxTokensPerExample: number | null
  readonly maxValidationExamples: number | null
  readonly minTrainingExamples: number | null
  readonly maxTrainingExamples: number | null
  readonly recommendedMinTrainingExamples: number | null
  readonly overTokenLimit: ProviderProfile['over_token_limit']
  readonly epochs: EpochsChoice
  /** Price per million billed training tokens, or null when neither the table nor the request has one. */
  readonly price: { readonly perMillionTokens: number, readonly currency: string, readonly source: string } | null
  /** The profile data's date. */
  readonly asOf: string
  /** Whether the provider still takes jobs. */
  readonly status: ProviderProfile['status']['state']
  /** When the profile's model list was last compared with the provider's page. */
  readonly modelsCheckedOn: string
  /** Warnings for every split: a closing profile, a retired or closing model (availabilityWarnings). */
  readonly availability: readonly AvailabilityWarning[]
  /** Caveats worth printing with the numbers (the model's note, the epochs note). */
  readonly notes: readonly string[]
}

/** A warning that the provider or the model is going away: the file may be fine, the job may not start. */
export interface AvailabilityWarning {
  readonly code: 'PROFILE_CLOSING' | 'PROFILE_CLOSED' | 'MODEL_RETIRED' | 'MODEL_CLOSING'
  readonly message: string
}

/**
 * The warnings a report gives for a profile that is closing or closed and for a model with a
 * retirement or end date in the data. Warnings, not errors: people with access still train there,
 * and `?validate=strict` checks the file, not the account.
 */
export function availabilityWarnings (profile: ProviderProfile, model: string): AvailabilityWarning[] {
  const warnings: AvailabilityWarning[] = []
  const { status } = profile
  const dates = [
    ...(status.since === undefined ? [] : [`${status.state === 'closed' ? 'closed' : 'announced'} ${status.since}`]),
    ...(status.until === undefined ? [] : [`no new jobs after ${status.until}`])
  ]
  const when = dates.length === 0 ? '' : ` (${dates.join('; ')})`
  if (status.state === 'closing') {
    warnings.push({ code: 'PROFILE_CLOSING', message: `${profile.title} is closing${when}: ${status.note} (${status.source})` })
  } else if (status.state === 'closed') {
    warnings.push({ code: 'PROFILE_CLOSED', message: `${profile.title} is closed${when}: ${status.note} (${status.source})` })
  }
  const limits = Object.hasOwn(profile.models, model) ? profile.models[model] : undefined
  const note = limits?.note === undefined ? '' : `: ${limits.note}`
  if (limits?.retired !== undefined) {
    warnings.push({ code: 'MODEL_RETIRED', message: `${model} was retired on ${limits.retired}; pick a current model (GET /validation/profiles)${note}` })
  } else if (limits?.available_until !== undefined) {
    warnings.push({ code: 'MODEL_CLOSING', message: `${model} is announced to stay available until ${limits.available_until} only${note}` })
  }
  return warnings
}

/** What a request may set on top of the profile. */
export interface ProfileOverrides {
  readonly model?: string
  readonly epochs?: number
  readonly pricePerMillionTokens?: number
  readonly maxTokensPerExample?: number
}

/**
 * The profile whose lines `format` writes (its registry entry's `defaultProfile`): the default when
 * a request names none. A later Kiln name (vertex_gemini) takes its format's profile. `profiles` is
 * not consulted (the registry decides); it stays for callers that pass the loaded data.
 */
export function profileForFormat (profiles: ProviderProfiles, format: string): ProviderProfileName {
  const canonical = resolveFormat(format)
  if (canonical === undefined) throw new TypeError(`${format} is not an export format`)
  return FORMATS[canonical].defaultProfile
}

/**
 * The formats whose lines `profile` reads (their line shape is one of its rules' shapes), in
 * registry order (GET /validation/profiles). Several profiles read the OpenAI formats; each format's
 * default is one of them.
 */
export function formatsOfProfile (profile: ProviderProfileName): DatasetFormat[] {
  const shapes: readonly LineShape[] = PROFILE_RULES[profile].lineShapes
  return DATASET_FORMATS.filter((format) => shapes.includes(FORMATS[format].lineShape))
}

/**
 * Each profile with the formats it is the default of, for people (the request's description, the
 * CLI help): `fireworks for openai_chat_jsonl, ...; vertex_gemini for vertex_gemini_1_5; ...`.
 * Built from the registry, so a new format or profile needs no edit here.
 */
export function defaultProfilesText (): string {
  const byProfile = new Map<string, string[]>()
  for (const format of DATASET_FORMATS) {
    const profile = FORMATS[format].defaultProfile
    byProfile.set(profile, [...byProfile.get(profile) ?? [], format])
  }
  return [...byProfile].map(([profile, formats]) => `${profile} for ${formats.join(', ')}`).join('; ')
}

/**
 * A model the profile does not list. `where` names the part of the request the choice came from
 * (`body`, `querystring`, the CLI's `options`), for the answer to point at it.
 */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError'
  constructor (readonly profile: ProviderProfileName, readonly model: string, readonly known: readonly string[], readonly where?: string) {
    super(`model ${model} is not one of the ${profile} profile's models: ${known.join(', ')}`)
  }
}

/** Pick a profile's numbers for a request; throws UnknownModelError for a model the profile does not list. */
export function resolveProfile (data: ReferenceData, name: ProviderProfileName, overrides: ProfileOverrides = {}): ResolvedProfile {
  const profile = data.profiles.profiles[name]
  const model = overrides.model ?? profile.default_model
  const limits = Object.hasOwn(profile.models, model) ? profile.models[model] : undefined
  if (limits === undefined) throw new UnknownModelError(name, model, Object.keys(profile.models))
  const listed = data.prices.providers[name]?.models
  const tablePrice = listed !== undefined && Object.hasOwn(listed, model) ? listed[model] : undefined
  let price: ResolvedProfile['price'] = null
  if (overrides.pricePerMillionTokens !== undefined) {
    price = { perMillionTokens: overrides.pricePerMillionTokens, currency: data.prices.currency, source: 'request (price_per_million_tokens)' }
  } else if (tablePrice !== undefined) {
    const confidence = tablePrice.confidence === undefined ? '' : `, confidence ${tablePrice.confidence}`
    price = { perMillionTokens: tablePrice.training_per_million_tokens, currency: data.prices.currency, source: `${data.pricesName} as of ${data.prices.as_of}${confidence}` }
  }
  const epochs: EpochsChoice = overrides.epochs !== undefined
    ? { source: 'request', value: overrides.epochs }
    : profile.default_epochs === 'openai_auto' ? { source: 'openai_auto' } : { source: 'profile_default', value: profile.default_epochs }
  const notes = [
    ...(limits.note === undefined ? [] : [`${model}: ${limits.note}`]),
    ...(epochs.source === 'profile_default' && profile.epochs_note !== undefined ? [profile.epochs_note] : []),
    ...(tablePrice?.note === undefined || overrides.pricePerMillionTokens !== undefined ? [] : [`${model} price: ${tablePrice.note}`])
  ]
  return {
    name,
    title: profile.title,
    model,
    tokenizer: limits.tokenizer,
    maxTokensPerExample: overrides.maxTokensPerExample ?? limits.max_tokens_per_example,
    maxValidationExamples: limits.max_validation_examples,
    minTrainingExamples: profile.min_training_examples,
    maxTrainingExamples: profile.max_training_examples,
    recommendedMinTrainingExamples: profile.recommended_min_training_examples,
    overTokenLimit: profile.over_token_limit,
    epochs,
    price,
    asOf: data.profiles.as_of,
    status: profile.status.state,
    modelsCheckedOn: profile.models_checked_on,
    availability: availabilityWarnings(profile, model),
    notes
  }
}
