import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DATA_STRATEGIES, DATASET_FORMATS, FORMATS } from '../../format/index.js'

const FormatInfoSchema = Type.Object({
  name: Type.Enum(DATASET_FORMATS),
  description: Type.String(),
  data_strategies: Type.Array(Type.Enum(DATA_STRATEGIES)),
  parses_output: Type.Boolean({ description: 'True when the final output must be valid JSON.' })
})

const FORMAT_LIST = DATASET_FORMATS.map((name) => ({
  name,
  description: FORMATS[name].description,
  data_strategies: [...DATA_STRATEGIES],
  parses_output: FORMATS[name].parsesOutput
}))

/** `GET /formats` and `GET /health`. */
const metaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/formats', {
    schema: {
      operationId: 'listFormats',
      summary: 'List the export formats',
      description: 'Every format with a one-line description and the data strategies it supports.',
      tags: ['meta'],
      response: { 200: Type.Object({ formats: Type.Array(FormatInfoSchema) }) }
    }
  }, async () => ({ formats: FORMAT_LIST }))

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
