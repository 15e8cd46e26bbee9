import { Type, type Static } from 'typebox'
import { PROVIDER_PROFILES, defaultProfilesText } from '../../validate/index.js'
import { INLINE_EXAMPLE, MOUNTED_EXAMPLE, exportRequestProperties, type FormatName } from './export-request.js'

/** The fields a validation request adds to an export request. */
export const VALIDATION_OPTIONS = {
  provider_profile: Type.Optional(Type.Enum(PROVIDER_PROFILES, {
    type: 'string',
    description: `Whose rules and limits to check: ${PROVIDER_PROFILES.join(', ')} (openai is closing: the report warns). ` +
      `Default: the format's profile (${defaultProfilesText()}); GET /validation/profiles lists each profile's formats, status and models.`
  })),
  model: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'A model of the profile (its token limits and price); default: the profile\'s default model. GET /validation/profiles lists them.'
  })),
  epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Epochs for the cost estimate; default: the profile\'s (OpenAI: its automatic choice for the number of examples).' })),
  price_per_million_tokens: Type.Optional(Type.Number({ minimum: 0, description: 'Training price per million billed tokens, instead of the price table\'s.' })),
  max_tokens_per_example: Type.Optional(Type.Integer({ minimum: 1, description: 'Tokens-per-example limit, instead of the model\'s (e.g. your trainer\'s max sequence length for huggingface).' }))
}

/** `POST /datasets/:id/validate`: the export body, any split (or all), plus the validation options. */
export function validateRequestSchema (formats: readonly FormatName[]) {
  return Type.Object({
    ...exportRequestProperties(formats),
    split_name: Type.Optional(Type.String({ description: 'The split to validate (a key of split_contents); omit it to validate every split.' })),
    ...VALIDATION_OPTIONS
  }, {
    additionalProperties: false,
    description: 'An export request (split_name optional), plus the provider profile and cost options. Inline or mounted, as for the export.',
    examples: [
      { ...MOUNTED_EXAMPLE, split_name: undefined, provider_profile: 'fireworks', model: 'gemma-4-31b-it' },
      { ...INLINE_EXAMPLE, provider_profile: 'vertex_gemini', format: 'vertex_gemini_1_5', epochs: 3 }
    ].map((example) => JSON.parse(JSON.stringify(example)) as unknown)
  })
}

export type ValidateRequest = Static<ReturnType<typeof validateRequestSchema>>
