import { Type, type Static } from 'typebox'
import { PROVIDER_PROFILES } from '../../validate/index.js'

const ModelInfoSchema = Type.Object({
  name: Type.String(),
  tokenizer: Type.String(),
  max_tokens_per_example: Type.Union([Type.Integer(), Type.Null()]),
  max_validation_examples: Type.Union([Type.Integer(), Type.Null()]),
  price_per_million_tokens: Type.Union([Type.Number(), Type.Null()], { description: 'From the price table; null when it has none.' }),
  retired: Type.Optional(Type.String({ description: 'The day the provider retired the model: a report for it warns (MODEL_RETIRED).' })),
  available_until: Type.Optional(Type.String({ description: 'The last day the model is announced to stay available: a report for it warns (MODEL_CLOSING).' })),
  note: Type.Optional(Type.String())
})

/** `GET /validation/profiles`: every provider profile with its models, prices and sources. */
export const ProfileListSchema = Type.Object({
  as_of: Type.String({ description: 'Date of the profile data.' }),
  prices_as_of: Type.String({ description: 'Date of the price table.' }),
  currency: Type.String(),
  notes: Type.Array(Type.String()),
  profiles: Type.Array(Type.Object({
    name: Type.Enum(PROVIDER_PROFILES),
    title: Type.String(),
    status: Type.Object({
      state: Type.Enum(['available', 'closing', 'closed'] as const, { description: 'Whether the provider still takes fine-tuning jobs; a report on a closing or closed profile warns (PROFILE_CLOSING, PROFILE_CLOSED).' }),
      since: Type.Optional(Type.String({ description: 'The day the closing was announced (or the service closed).' })),
      until: Type.Optional(Type.String({ description: 'The last day jobs can be created, when one is announced.' })),
      note: Type.String(),
      source: Type.String({ description: 'The provider page that says so.' })
    }),
    models_checked_on: Type.String({ description: 'When the model list was last compared with the provider\'s page: an old date means a list to re-check.' }),
    formats: Type.Array(Type.String(), { description: 'The formats whose lines this provider reads.' }),
    default_model: Type.String(),
    min_training_examples: Type.Union([Type.Integer(), Type.Null()]),
    max_training_examples: Type.Union([Type.Integer(), Type.Null()]),
    recommended_min_training_examples: Type.Union([Type.Integer(), Type.Null()]),
    over_token_limit: Type.String({ description: 'What the provider does with a longer example: truncated, rejected or unknown.' }),
    default_epochs: Type.Union([Type.Integer(), Type.Literal('openai_auto')]),
    models: Type.Array(ModelInfoSchema),
    sources: Type.Array(Type.Object({
      url: Type.String(),
      for: Type.String(),
      read_on: Type.String({ description: 'The day the page was read.' }),
      page_date: Type.Optional(Type.String({ description: 'The page\'s own date, where it shows one.' }))
    }))
  }))
})

export type ProfileList = Static<typeof ProfileListSchema>
