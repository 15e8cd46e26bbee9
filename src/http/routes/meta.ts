import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { FORMATS, resolveFormat } from '../../format/index.js'
import { errorResponse } from '../schemas/error-response.js'
import { type FormatName } from '../schemas/export-request.js'
import { FormatInfoSchema, type FormatInfo } from '../schemas/format-info.js'

/** `GET /formats`, and the probes `GET /health` (liveness) and `GET /ready` (readiness). */
const metaRoutes: FastifyPluginAsyncTypebox<{ formats: readonly FormatName[] }> = async (app, options) => {
  const formatList = options.formats.map((name): FormatInfo => {
    const format = resolveFormat(name) ?? 'openai_chat_jsonl'
    return {
      name,
      ...(format === name ? {} : { alias_of: format }),
      description: FORMATS[format].description,
      data_strategies: [...FORMATS[format].strategies],
      parses_output: FORMATS[format].parsesOutput,
      kind: FORMATS[format].kind
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
        503: errorResponse('Not ready: KEX_OVERLOADED (under pressure) or KEX_SHUTTING_DOWN.')
      }
    }
  }, async () => {
    const refusal = app.notReady()
    if (refusal !== undefined) throw refusal
    return { status: 'ready' as const }
  })
}

// Encapsulated (the routes' hooks and schemas stay inside), with a name and the decorations it uses.
export default fp(metaRoutes, { name: 'meta-routes', encapsulate: true, dependencies: ['overload'] })
