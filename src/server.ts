import { ConfigError, loadConfig } from './config.js'
import { startService } from './service.js'

/** The executable (`npm start`, the Docker image): the environment is read here and only here. */
try {
  await startService(loadConfig(process.env), { stdoutIsTty: process.stdout.isTTY })
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`kiln-export: ${err.message}\n`)
  process.exit(2)
}
