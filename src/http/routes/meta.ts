import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DATA_STRATEGIES, FORMATS, resolveFormat } from '../../format/index.js'
import { type FormatName } from '../schemas/export-request.js'

const FormatInfoSchema = Type.Object({
  name: Type.String({ description: 'The value of `format` in an export request.' }),
  alias_of: Type.Optional(Type.String({ description: 'For a later Kiln name, the format it stands for (same lines).' })),
  description: Type.String(),
  data_strategies: Type.Array(Type.Enum(DATA_STRATEGIES), { description: 'The data strategies this format accepts.' }),
  parses_output: Type.Boolean({ description: 'True when the final output must be valid JSON.' })
})

/** `GET /formats` and `GET /health`. */
const metaRoutes: FastifyPluginAsyncTypebox<{ formats: readonly FormatName[] }> = async (app, options) => {
  const formatList = options.formats.map((name) => {
    const format = resolveFormat(name) ?? 'openai_chat_jsonl'
    return {
      name,
      ...(format === name ? {} : { alias_of: format }),
      description: FORMATS[format].description,
      data_strategies: [...FORMATS[format].strategies],
      parses_output: FORMATS[format].parsesOutput
    }
  })

  app.get('/formats', {
    schema: {
      operationId: 'listFormats',
      summary: 'List the export formats',
      description: 'Every format with a one-line description and the data strategies it supports.',
      tags: ['meta'],
      response: { 200: Type.Object({ formats: Type.Array(FormatInfoSchema) }) }
    }
  }, async () => ({ formats: formatList }))

  app.get('/health', {
    schema: {
      operationId: 'health',
      summary: 'Liveness check',
      description: 'Answers 200 while the service is up; never needs a token.',
      tags: ['meta'],
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok') }) }
    }
  }, async () => ({ status: 'ok' as const }))
}

export default metaRoutes
