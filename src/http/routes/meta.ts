import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DATA_STRATEGIES, FORMATS, resolveFormat } from '../../format/index.js'
import { ErrorResponseSchema } from '../schemas/error-response.js'
import { type FormatName } from '../schemas/export-request.js'

const FormatInfoSchema = Type.Object({
  name: Type.String({ description: 'The value of `format` in an export request.' }),
  alias_of: Type.Optional(Type.String({ description: 'For a later Kiln name, the format it stands for (same lines).' })),
  description: Type.String(),
  data_strategies: Type.Array(Type.Enum(DATA_STRATEGIES), { description: 'The data strategies this format accepts.' }),
  parses_output: Type.Boolean({ description: 'True when the final output must be valid JSON.' })
})

/** `GET /formats`, and the probes `GET /health` (liveness) and `GET /ready` (readiness). */
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
    config: { probe: true },
    schema: {
      operationId: 'health',
      summary: 'Liveness check',
      description: 'Answers 200 while the process runs, however busy (use it for a liveness probe: failing it means restart). Never needs a token.',
      tags: ['meta'],
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok') }) }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    config: { probe: true },
    schema: {
      operationId: 'ready',
      summary: 'Readiness check',
      description: 'Answers 200 when the service takes new work, 503 (with Retry-After) while it is under pressure (event-loop lag, heap) ' +
        'or shutting down (use it for a readiness probe: failing it means send no traffic for now). Never needs a token.',
      tags: ['meta'],
      security: [],
      response: {
        200: Type.Object({ status: Type.Literal('ready') }),
        503: { ...ErrorResponseSchema, description: 'Not ready: KEX_OVERLOADED (under pressure) or KEX_SHUTTING_DOWN.' }
      }
    }
  }, async () => {
    const refusal = app.notReady()
    if (refusal !== undefined) throw refusal
    return { status: 'ready' as const }
  })
}

export default metaRoutes
