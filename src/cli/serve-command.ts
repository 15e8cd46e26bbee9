import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { pino, type LoggerOptions } from 'pino'
import { buildApp } from '../app.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { KilnProjects } from '../source/kiln-project.js'
import { existingFolder, parseOrUsage, port } from './args.js'
import { EXIT_OK, EXIT_USAGE, say, type CliIo } from './io.js'

const OPTIONS = {
  project: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' }
} as const

/** The same logger setup as src/server.ts: pretty on a terminal, JSON otherwise, no secrets. */
function loggerOptions (config: Config, stdoutIsTty: boolean): LoggerOptions {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTty)
  return {
    level: config.logLevel,
    redact: ['req.headers.authorization'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/**
 * `kiln-export serve`: what src/server.ts does (config from the environment, logs, graceful
 * shutdown), with --project/--port/--host laid over the environment. Resolves once listening.
 */
export async function serveCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('serve', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const env: Record<string, string | undefined> = { ...io.env }
  // An absolute path: KILN_PROJECTS_DIR refuses `..` segments, which a relative --project may have.
  if (values.project !== undefined) env.KILN_PROJECTS_DIR = await existingFolder('serve', 'project', values.project)
  if (values.port !== undefined) env.PORT = port('serve', values.port)
  if (values.host !== undefined) env.HOST = values.host
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) {
      say(io, err.message)
      return EXIT_USAGE
    }
    throw err
  }
  const projectsDir = await existingFolder('serve', 'project', config.projectsDir).catch(() => undefined)
  if (projectsDir === undefined) {
    say(io, `KILN_PROJECTS_DIR is not a readable folder: ${config.projectsDir}`)
    return EXIT_USAGE
  }
  const logger = pino(loggerOptions(config, io.stdout.isTTY === true))
  const catalog = new KilnProjects(projectsDir)
  logger.info({ projectsDir, projects: (await catalog.projectDirs()).length }, 'serving mounted Kiln projects')
  const app = await buildApp(config, { logger, catalog })
  closeWithGrace({ delay: config.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
  return EXIT_OK
}
