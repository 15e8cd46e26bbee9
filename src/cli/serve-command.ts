import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { startService } from '../service.js'
import { existingFolder, parseOrUsage, port } from './args.js'
import { EXIT_OK, EXIT_USAGE, say, type CliIo } from './io.js'

const OPTIONS = {
  project: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' }
} as const

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
  try {
    await startService(config, { stdoutIsTty: io.stdout.isTTY === true })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    say(io, err.message)
    return EXIT_USAGE
  }
  return EXIT_OK
}
