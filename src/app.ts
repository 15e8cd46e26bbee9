import { randomUUID } from 'node:crypto'
import compress from '@fastify/compress'
import { type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { type Config } from './config.js'
import auth from './http/plugins/auth.js'
import errorHandler from './http/plugins/error-handler.js'
import jsonBody from './http/plugins/json-body.js'
import limits from './http/plugins/limits.js'
import swagger from './http/plugins/swagger.js'
import datasetRoutes from './http/routes/datasets.js'
import metaRoutes from './http/routes/meta.js'
import validateRoutes from './http/routes/validate.js'
import { type FormatName } from './http/schemas/export-request.js'
import { validatorCompiler } from './http/validation.js'
import { type ExportTuning } from './export/prepare-export.js'
import { DATASET_FORMATS, FORMAT_ALIASES, type FormatAlias } from './format/index.js'
import { type DatasetCatalog } from './source/types.js'

/** What the app needs besides the config; tests inject loggers and resolvers here. */
export interface AppOptions {
  /** A pino logger or Fastify logger options; false for silence (default). */
  readonly logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** The mounted Kiln projects (dataset lookup and listing). */
  readonly catalog?: DatasetCatalog
  /** Export tuning (tests force the two-pass path with a tiny buffer). */
  readonly exportTuning?: ExportTuning
}

/** The part of the configuration the app itself uses (the rest is the server's). */
export type AppConfig = Pick<Config, 'bodyLimit' | 'apiToken' | 'maxConcurrentExports' | 'maxEventLoopDelayMs'
| 'maxHeapUsedBytes' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'formatAliases' | 'pricesFile' | 'validateMaxChars'>

/** Build the service (plugins, routes, error handling) without listening. */
export async function buildApp (config: AppConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger ?? false
  const isInstance = typeof logger === 'object' && logger !== null && 'child' in logger && typeof logger.child === 'function'
  const app = Fastify({
    ...(isInstance ? { loggerInstance: logger as FastifyServerOptions['loggerInstance'] } : { logger: logger as FastifyServerOptions['logger'] }),
    bodyLimit: config.bodyLimit,
    // Accept a caller's request id, otherwise make one; it is echoed back and on every log line.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    // The limits plugin answers requests that arrive while closing, in our error format.
    return503OnClosing: false
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.addHook('onRequest', async (request, reply) => { reply.header('x-request-id', request.id) })

  await app.register(errorHandler, { bodyLimit: config.bodyLimit })
  // gzip/br/deflate for clients that ask (Accept-Encoding), streamed chunk by chunk; gzip-encoded
  // request bodies are inflated too (BODY_LIMIT applies to the inflated size).
  await app.register(compress, { customTypes: /^(?:application\/(?:jsonl|json|[\w.+-]+\+json)|text\/)/, encodings: ['br', 'gzip', 'deflate'] })
  // The API speaks JSON only (valid UTF-8): anything else is a clear 415 or 400.
  await app.register(jsonBody)
  await app.register(limits, config)
  await app.register(auth, { token: config.apiToken })
  await app.register(swagger)
  // The six formats, plus Kiln's later names when FORMAT_ALIASES is on.
  const formats: FormatName[] = [...DATASET_FORMATS, ...(config.formatAliases ? Object.keys(FORMAT_ALIASES) as FormatAlias[] : [])]
  await app.register(metaRoutes, { formats })
  const validation = { pricesFile: config.pricesFile, maxWorkChars: config.validateMaxChars }
  await app.register(datasetRoutes, { catalog: options.catalog, tuning: options.exportTuning, formats, ...validation })
  await app.register(validateRoutes, { catalog: options.catalog, formats, ...validation })
  return app
}
