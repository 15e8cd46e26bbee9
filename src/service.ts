import { stat } from 'node:fs/promises'
import closeWithGrace from 'close-with-grace'
import { type FastifyInstance } from 'fastify'
import { pino, type Logger, type LoggerOptions } from 'pino'
import { buildApp } from './app.js'
import { processSpool, removeStaleSpools } from './export/spool.js'
import { ConfigError, type Config } from './config.js'
import { LOG_REDACT_PATHS } from './http/log-redaction.js'
import { isOutOfFileHandles } from './out-of-files.js'
import { openExportJobs, type ExportJobs } from './jobs/index.js'
import { openCatalog } from './source/index.js'

/**
 * The export jobs of a server or worker process: the engine and result store the config names,
 * with workers started when `EXPORT_WORKERS` is on (BullMQ; the in-process engine always runs its
 * jobs), expired results swept, and job log lines in the service's log.
 */
export async function openServiceJobs (config: Config, logger: Logger, catalog: ReturnType<typeof openCatalog>, workers = config.exportWorkers): Promise<ExportJobs> {
  const jobLogger = logger.child({ component: 'export-jobs' })
  const spool = processSpool(config.spoolDir, config.spoolMaxBytes, (reason) => { jobLogger.info({ reason }, 'export spool stopped growing: the rest of the export is formatted again') })
  const jobs = await openExportJobs(config, { catalog, ...(spool === undefined ? {} : { tuning: { spool } }), log: (level, fields, message) => { jobLogger[level](fields, message) } })
  if (workers) await jobs.engine.startWorkers?.()
  jobs.startSweeping()
  logger.info({ engine: jobs.engine.kind, store: jobs.store.kind, workers: workers || jobs.engine.kind === 'in-process' }, 'export jobs ready')
  return jobs
}

function loggerOptions (config: Config, stdoutIsTty: boolean): LoggerOptions {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTty)
  return {
    level: config.logLevel,
    // Never log request bodies or credentials.
    redact: [...LOG_REDACT_PATHS],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/**
 * Run the service from a loaded config: logs (pretty on a terminal, JSON otherwise), the mounted
 * projects, graceful close on SIGTERM/SIGINT, listen. Shared by `npm start` and `kiln-export serve`.
 * Throws ConfigError when KILN_PROJECTS_DIR is not a folder or PORT is already in use.
 */
export async function startService (config: Config, options: { readonly stdoutIsTty: boolean }): Promise<FastifyInstance> {
  const isFolder = await stat(config.projectsDir).then((s) => s.isDirectory(), () => false)
  if (!isFolder) throw new ConfigError(`KILN_PROJECTS_DIR is not a readable folder: ${config.projectsDir}`)
  const logger = pino(loggerOptions(config, options.stdoutIsTty))
  const catalog = openCatalog(config)
  logger.info({ projectsDir: config.projectsDir, projects: (await catalog.projectDirs()).length }, 'serving mounted Kiln projects')
  // Spool files are unlinked as soon as they are made; a crash in between can leave one.
  const stale = config.spoolMaxBytes > 0 ? await removeStaleSpools(config.spoolDir) : 0
  if (stale > 0) logger.info({ spoolDir: config.spoolDir, removed: stale }, 'removed spool files left by an earlier process')
  const jobs = await openServiceJobs(config, logger, catalog)
  const app = await buildApp(config, { logger, catalog, jobs })
  let fatal = false
  const grace = closeWithGrace({ delay: config.shutdownGraceMs, logger, skip: ['uncaughtException', 'unhandledRejection'] }, async ({ signal }) => {
    if (!fatal) logger.info({ signal }, 'shutting down')
    await app.close()
    // close-with-grace exits 0 after a close it did not start itself.
    if (fatal) process.exit(1)
  })
  // An uncaught error closes the service, except running out of file handles (some library's
  // timer, a connection flood): that is load, answered 503 where it reaches a request, and passes.
  const onError = (err: unknown): void => {
    if (isOutOfFileHandles(err)) {
      logger.warn({ code: (err as { code: string }).code }, 'out of file handles: refusing work until connections close')
      return
    }
    if (fatal) process.exit(1)
    fatal = true
    logger.error({ err }, 'shutting down after an error')
    grace.close()
  }
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onError)
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    // A busy port is a configuration problem: one line naming PORT, not a stack trace.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    await app.close()
    throw new ConfigError(`PORT ${config.port} is already in use on ${config.host}: stop the other server, or set PORT to a free port (PORT=0 picks one)`)
  }
  return app
}

/**
 * `kiln-export worker`: run export jobs from the queue (REDIS_URL), no HTTP server. SIGTERM/SIGINT
 * stop taking jobs and let the running ones finish within SHUTDOWN_GRACE_MS; a job still running
 * then is handed back by its lock expiring (another worker redoes it). Throws ConfigError without
 * REDIS_URL or when KILN_PROJECTS_DIR is not a folder.
 */
export async function startWorkerService (config: Config, options: { readonly stdoutIsTty: boolean }): Promise<ExportJobs> {
  if (config.redisUrl === undefined) {
    throw new ConfigError('kiln-export worker takes jobs from a queue in Redis: set REDIS_URL (the same as the servers\'), e.g. REDIS_URL=redis://127.0.0.1:6379')
  }
  const isFolder = await stat(config.projectsDir).then((s) => s.isDirectory(), () => false)
  if (!isFolder) throw new ConfigError(`KILN_PROJECTS_DIR is not a readable folder: ${config.projectsDir}`)
  const logger = pino(loggerOptions(config, options.stdoutIsTty))
  const jobs = await openServiceJobs(config, logger, openCatalog(config), true)
  closeWithGrace({ delay: config.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'worker stopping after an error')
    else logger.info({ signal }, 'worker stopping: running jobs finish')
    await jobs.close()
  })
  logger.info({ queue: config.exportQueue, concurrency: config.exportJobConcurrency }, 'export worker started')
  return jobs
}
