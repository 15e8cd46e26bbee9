import { stat } from 'node:fs/promises'
import closeWithGrace from 'close-with-grace'
import { type FastifyInstance } from 'fastify'
import { pino, type LoggerOptions } from 'pino'
import { buildApp } from './app.js'
import { removeStaleSpools } from './export/spool.js'
import { ConfigError, type Config } from './config.js'
import { LOG_REDACT_PATHS } from './http/log-redaction.js'
import { isOutOfFileHandles } from './out-of-files.js'
import { openCatalog } from './source/index.js'

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
  const app = await buildApp(config, { logger, catalog })
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
