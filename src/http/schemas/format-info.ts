import { Type, type Static } from 'typebox'
import { DATA_STRATEGIES } from '../../format/index.js'

/** One entry of `GET /formats` (also the typed client's `FormatInfo`). */
export const FormatInfoSchema = Type.Object({
  name: Type.String({ description: 'The value of `format` in an export request.' }),
  alias_of: Type.Optional(Type.String({ description: 'For a later Kiln name, the format it stands for (same lines).' })),
  description: Type.String(),
  data_strategies: Type.Array(Type.Enum(DATA_STRATEGIES), { description: 'The data strategies this format accepts.' }),
  parses_output: Type.Boolean({ description: 'True when the final output must be valid JSON.' }),
  kind: Type.Enum(['sft', 'preference'] as const, {
    type: 'string',
    description: 'sft: one example per run. preference: one preference (DPO) pair per line, made as `pair_by` says.'
  })
})

/** One entry of `GET /formats`. */
export type FormatInfo = Static<typeof FormatInfoSchema>
