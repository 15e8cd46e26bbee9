import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { startWorkerService } from '../service.js'
import { existingFolder, parseOrUsage } from './args.js'
import { EXIT_OK, EXIT_USAGE, say, type CliIo } from './io.js'

const OPTIONS = {
  project: { type: 'string' },
  concurrency: { type: 'string' }
} as const

/**
 * `kiln-export worker`: run export jobs from the Redis queue (REDIS_URL), the configuration from
 * the environment as for `serve`, with --project and --concurrency laid over it. Resolves once the
 * worker takes jobs; the process then runs until SIGTERM/SIGINT.
 */
export async function workerCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('worker', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const env: Record<string, string | undefined> = { ...io.env }
  if (values.project !== undefined) env.KILN_PROJECTS_DIR = await existingFolder('worker', 'project', values.project)
  if (values.concurrency !== undefined) env.EXPORT_JOB_CONCURRENCY = values.concurrency
  let config: Config
  try {
    config = loadConfig(env)
    await startWorkerService(config, { stdoutIsTty: io.stdout.isTTY === true })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    say(io, err.message)
    return EXIT_USAGE
  }
  return EXIT_OK
}
