import { randomUUID } from 'node:crypto'
import compress from '@fastify/compress'
import { type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { type Config } from './config.js'
import auth from './http/plugins/auth.js'
import errorHandler from './http/plugins/error-handler.js'
import httpRules from './http/plugins/http-rules.js'
import jsonBody from './http/plugins/json-body.js'
import datasetValidator from './http/plugins/dataset-validator.js'
import exportSlots from './http/plugins/export-slots.js'
import overload from './http/plugins/overload.js'
import shutdown from './http/plugins/shutdown.js'
import swagger from './http/plugins/swagger.js'
import datasetRoutes from './http/routes/datasets.js'
import exportRoutes from './http/routes/exports.js'
import metaRoutes from './http/routes/meta.js'
import validateRoutes from './http/routes/validate.js'
import { LOG_REDACT_PATHS, LOG_SERIALIZERS } from './http/log-redaction.js'
import { clientErrorHandler, frameworkErrors } from './http/protocol-errors.js'
import { DATASET_ID_MAX_LENGTH, type FormatName } from './http/schemas/export-request.js'
import { validatorCompiler } from './http/schema-validator.js'
import { type ExportTuning } from './export/prepare-export.js'
import { processSpool } from './export/spool.js'
import { DATASET_FORMATS, FORMAT_ALIASES, type FormatAlias } from './format/index.js'
import { type DatasetCatalog } from './source/types.js'
import { openExportJobs, type ExportJobs, type JobsConfig } from './jobs/index.js'

/** What the app needs besides the config; tests inject loggers and resolvers here. */
export interface AppOptions {
  /** A pino logger or Fastify logger options; false for silence (default). */
  readonly logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** The mounted Kiln projects (dataset lookup and listing). */
  readonly catalog?: DatasetCatalog
  /** Export tuning, used as given (tests force the two-pass path with a tiny buffer and no spool); default: the config's spool. */
  readonly exportTuning?: ExportTuning
  /**
   * The export jobs (engine and result store), which the app closes with itself. Default: those
   * the config names, without workers (the in-process engine runs its jobs anyway).
   */
  readonly jobs?: ExportJobs
}

/** The part of the configuration the app itself uses (the rest is the server's). */
export type AppConfig = Pick<Config, 'bodyLimit' | 'apiToken' | 'maxConcurrentExports' | 'exportMinBytesPerSecond' | 'exportRateWindowMs'
| 'exportDeadlineMs' | 'maxEventLoopDelayMs'
| 'maxHeapUsedBytes' | 'maxConnections' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'formatAliases' | 'pricesFile' | 'validateMaxChars'>
& Partial<Pick<Config, 'spoolDir' | 'spoolMaxBytes'>>
& JobsConfig

/**
 * The Fastify logger options for the given logger, with the app's redaction (request URLs without
 * `access_token` values, no Authorization header) whether the caller passed a pino instance or options.
 */
function withRedaction (logger: NonNullable<AppOptions['logger']>): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (typeof logger !== 'object' || logger === null) return { logger: logger as FastifyServerOptions['logger'] }
  if ('child' in logger && typeof logger.child === 'function') {
    const instance = logger as NonNullable<FastifyServerOptions['loggerInstance']>
    // A child merges our serializers over the caller's and leaves its redact paths alone.
    return { loggerInstance: instance.child({}, { serializers: LOG_SERIALIZERS }) }
  }
  const loggerOptions = logger as Exclude<FastifyServerOptions['logger'], boolean | undefined>
  return { logger: { redact: [...LOG_REDACT_PATHS], ...loggerOptions, serializers: { ...loggerOptions.serializers, ...LOG_SERIALIZERS } } }
}

/** Build the service (plugins, routes, error handling) without listening. */
export async function buildApp (config: AppConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...withRedaction(options.logger ?? false),
    bodyLimit: config.bodyLimit,
    // Accept a caller's request id, otherwise make one; it is echoed back and on every log line.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: {
      headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
      // Node checks both timeouts on this interval (default 30 s, which would triple a 10 s limit).
      connectionsCheckingInterval: 1000,
      // http-rules answers a missing Host in our error format.
      requireHostHeader: false
    },
    // The shutdown plugin answers requests that arrive while closing, in our error format.
    return503OnClosing: false,
    // Errors before routing (parser, router) answer in our error format too; http-rules checks Host.
    clientErrorHandler,
    frameworkErrors,
    // `/datasets/` and `/datasets/{id}/export/` are the routes without the slash, as people type them.
    routerOptions: { maxParamLength: DATASET_ID_MAX_LENGTH, ignoreTrailingSlash: true }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Connections past the cap are closed on arrival, so a flood cannot use every file handle.
  app.server.maxConnections = config.maxConnections
  app.setValidatorCompiler(validatorCompiler)
  app.addHook('onRequest', async (request, reply) => { reply.header('x-request-id', request.id) })

  await app.register(errorHandler, { bodyLimit: config.bodyLimit })
  await app.register(httpRules)
  // gzip/br/deflate for clients that ask (Accept-Encoding), streamed chunk by chunk; gzip-encoded
  // request bodies are inflated too (BODY_LIMIT applies to the inflated size).
  await app.register(compress, { customTypes: /^(?:application\/(?:jsonl|json|[\w.+-]+\+json)|text\/)/, encodings: ['br', 'gzip', 'deflate'] })
  // The API speaks JSON only (valid UTF-8): anything else is a clear 415 or 400.
  await app.register(jsonBody)
  // Refusals before auth, in this order: shutting down, then under pressure (503 + Retry-After).
  await app.register(shutdown)
  await app.register(overload, config)
  await app.register(exportSlots, config)
  await app.register(auth, { token: config.apiToken })
  await app.register(swagger, { tokenRequired: config.apiToken !== undefined })
  // The canonical formats, plus Kiln's later names when FORMAT_ALIASES is on.
  const formats: FormatName[] = [...DATASET_FORMATS, ...(config.formatAliases ? Object.keys(FORMAT_ALIASES) as FormatAlias[] : [])]
  await app.register(metaRoutes, { formats })
  await app.register(datasetValidator, { pricesFile: config.pricesFile, maxWorkChars: config.validateMaxChars })
  // One spool budget for every export of the process (SPOOL_MAX_BYTES in SPOOL_DIR), jobs included.
  const spool = processSpool(config.spoolDir, config.spoolMaxBytes, (reason) => { app.log.info({ reason }, 'export spool stopped growing: the rest of the export is formatted again') })
  const tuning: ExportTuning = options.exportTuning ?? (spool === undefined ? {} : { spool })
  await app.register(datasetRoutes, { catalog: options.catalog, tuning, formats })
  await app.register(validateRoutes, { catalog: options.catalog, formats })
  const jobs = options.jobs ?? await openExportJobs(config, { catalog: options.catalog, tuning })
  // Closing the app stops the jobs: running ones finish (within the server's shutdown grace).
  app.addHook('onClose', async () => { await jobs.close() })
  await app.register(exportRoutes, { jobs, formats, ttlMs: config.exportsTtlMs })
  return app
}
