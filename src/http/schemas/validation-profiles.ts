import { Type, type Static } from 'typebox'
import { PROVIDER_PROFILES } from '../../validate/index.js'

const ModelInfoSchema = Type.Object({
  name: Type.String(),
  tokenizer: Type.String(),
  max_tokens_per_example: Type.Union([Type.Integer(), Type.Null()]),
  max_validation_examples: Type.Union([Type.Integer(), Type.Null()]),
  price_per_million_tokens: Type.Union([Type.Number(), Type.Null()], { description: 'From the price table; null when it has none.' }),
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

export type ProfileList = Static<typeof ProfileListSchema>
