import { stat } from 'node:fs/promises'
import closeWithGrace from 'close-with-grace'
import { pino, type LoggerOptions } from 'pino'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { KilnProjects } from './source/kiln-project.js'

function loggerOptions (config: Config): LoggerOptions {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY)
  return {
    level: config.logLevel,
    // Never log request bodies or credentials.
    redact: ['req.headers.authorization'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/** The executable: read the environment once, build the app, listen, and close gracefully. */
async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kiln-export: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const isFolder = await stat(config.projectsDir).then((s) => s.isDirectory(), () => false)
  if (!isFolder) {
    process.stderr.write(`kiln-export: KILN_PROJECTS_DIR is not a readable folder: ${config.projectsDir}\n`)
    process.exit(2)
  }
  const logger = pino(loggerOptions(config))
  const catalog = new KilnProjects(config.projectsDir)
  logger.info({ projectsDir: config.projectsDir, projects: (await catalog.projectDirs()).length }, 'serving mounted Kiln projects')
  const app = await buildApp(config, { logger, catalog })
  closeWithGrace({ delay: config.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
}

await main()
