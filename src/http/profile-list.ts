import { PROVIDER_PROFILES, formatsOfProfile, type ReferenceData } from '../validate/index.js'
import { type ProfileList } from './schemas/validation-profiles.js'

/** The answer of `GET /validation/profiles`: the profiles' rules and models, priced from the price table. */
export function profileList ({ profiles, prices }: ReferenceData): ProfileList {
  return {
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
        status: profile.status,
        models_checked_on: profile.models_checked_on,
        formats: formatsOfProfile(name),
        default_model: profile.default_model,
        min_training_examples: profile.min_training_examples,
        max_training_examples: profile.max_training_examples,
        recommended_min_training_examples: profile.recommended_min_training_examples,
        over_token_limit: profile.over_token_limit,
        default_epochs: profile.default_epochs,
        models: Object.entries(profile.models).map(([model, limits]) => ({
          name: model,
          tokenizer: limits.tokenizer,
          max_tokens_per_example: limits.max_tokens_per_example,
          max_validation_examples: limits.max_validation_examples,
          price_per_million_tokens: Object.hasOwn(priced, model) ? priced[model]?.training_per_million_tokens ?? null : null,
          ...(limits.retired === undefined ? {} : { retired: limits.retired }),
          ...(limits.available_until === undefined ? {} : { available_until: limits.available_until }),
          ...(limits.note === undefined ? {} : { note: limits.note })
        })),
        sources: profile.sources
      }
    })
  }
}
