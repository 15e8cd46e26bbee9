import { readFileSync } from 'node:fs'
import { wantsHelp } from './args.js'
import { EXPORT_HELP, JOB_HELP, LIST_HELP, PROGRAM_HELP, SERVE_HELP, VALIDATE_HELP, WORKER_HELP } from './help.js'
import { EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'

interface Command {
  readonly help: string
  readonly run: (args: string[], io: CliIo) => Promise<number>
}

const COMMANDS: Record<string, Command> = {
  // Loaded on demand: `list` and `export` never load Fastify, `--help` loads no command at all.
  export: { help: EXPORT_HELP, run: async (args, io) => (await import('./export-command.js')).exportCommand(args, io) },
  job: { help: JOB_HELP, run: async (args, io) => (await import('./job-command.js')).jobCommand(args, io) },
  list: { help: LIST_HELP, run: async (args, io) => (await import('./list-command.js')).listCommand(args, io) },
  serve: { help: SERVE_HELP, run: async (args, io) => (await import('./serve-command.js')).serveCommand(args, io) },
  validate: { help: VALIDATE_HELP, run: async (args, io) => (await import('./validate-command.js')).validateCommand(args, io) },
  worker: { help: WORKER_HELP, run: async (args, io) => (await import('./worker-command.js')).workerCommand(args, io) }
}

/** The package version (package.json sits two folders above src/cli and dist/cli alike). */
export function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** Run the CLI with `argv` (without node and the script) and answer the exit status. */
export async function runCli (argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    io.stderr.write(PROGRAM_HELP)
    return EXIT_USAGE
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined
    const command = topic === undefined ? undefined : COMMANDS[topic]
    if (topic !== undefined && command === undefined) return usageError(io, new UsageError(`unknown command '${topic}'`))
    io.stdout.write(command?.help ?? PROGRAM_HELP)
    return EXIT_OK
  }
  if (name === '-v' || name === '--version') {
    io.stdout.write(`${version()}\n`)
    return EXIT_OK
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) {
    return usageError(io, new UsageError(name.startsWith('-') ? `unknown option '${name}' (options go after the command)` : `unknown command '${name}'`))
  }
  if (wantsHelp(args)) {
    io.stdout.write(command.help)
    return EXIT_OK
  }
  try {
    return await command.run(args, io)
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err)
    throw err
  }
}

function usageError (io: CliIo, err: UsageError): number {
  say(io, err.message)
  io.stderr.write(`Run 'kiln-export ${err.command === undefined ? '' : `${err.command} `}--help' for usage.\n`)
  return EXIT_USAGE
}
