import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { UsageError } from './io.js'

/** True when the arguments ask for help (`-h`/`--help` before a `--` terminator). */
export function wantsHelp (args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '-h' || arg === '--help') return true
  }
  return false
}

function isParseArgsError (err: unknown): err is Error & { code: string } {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')
}

/**
 * Run node:util parseArgs (strict) and turn its errors into a UsageError for `command`, keeping
 * the first sentence of Node's message (the rest explains `--` escaping at length).
 */
export function parseOrUsage<T> (command: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    if (!isParseArgsError(err)) throw err
    const message = err.message.split(/\. To specify /)[0] ?? err.message
    throw new UsageError(message.replace(/\.$/, ''), command)
  }
}

/** A required string option, or a UsageError naming it. */
export function required (command: string, name: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`missing --${name}`, command)
  return value
}

/** The absolute path of a folder given on the command line, or a UsageError when it is not one. */
export async function existingFolder (command: string, option: string, path: string): Promise<string> {
  const absolute = resolve(path)
  const isFolder = await stat(absolute).then((s) => s.isDirectory(), () => false)
  if (!isFolder) throw new UsageError(`--${option} is not a readable folder: ${path}`, command)
  return absolute
}

/** A TCP port given on the command line (0 picks a free one). */
export function port (command: string, value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, not '${value}'`, command)
  return value
}
