import { runCli } from './run.js'

/**
 * The `kiln-export` executable: `npm run cli -- <command> ...`, `npx tsx src/cli/main.ts ...`, or
 * the `kiln-export` bin (bin/kiln-export.js). Exit statuses: 0 ok, 1 data error, 2 usage error.
 */
const argv = process.argv.slice(2)

// `serve` and `worker` install their own graceful shutdown; the other commands stop cleanly on the first
// SIGINT/SIGTERM (an export removes its temp file) and exit at once on the second.
const controller = new AbortController()
const onSignal = (): void => {
  if (controller.signal.aborted) process.exit(130)
  controller.abort()
}
const trapSignals = argv[0] !== 'serve' && argv[0] !== 'worker'
if (trapSignals) {
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

try {
  process.exitCode = await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal })
} catch (err) {
  // A bug, or an I/O failure nobody anticipated: say so briefly, with the stack for a bug report.
  process.stderr.write(`kiln-export: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
}
if (trapSignals) {
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
}
