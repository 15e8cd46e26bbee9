/** Exit statuses of the CLI. */
export const EXIT_OK = 0
/** The export was refused (a data error: the API's 404/422 kinds) or writing it failed. */
export const EXIT_DATA_ERROR = 1
/** Bad arguments: unknown command or option, a missing or invalid value, an unreadable input file. */
export const EXIT_USAGE = 2

/** A stream the CLI writes to: process.stdout/stderr, or a fake in tests. */
export interface OutputStream {
  write (chunk: string | Uint8Array): boolean
  once (event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown
  removeListener (event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown
  readonly isTTY?: boolean
}

/** What a command may touch besides its arguments (injected so commands can run in-process in tests). */
export interface CliIo {
  readonly stdout: OutputStream
  readonly stderr: OutputStream
  /** The environment, for `serve` (which reads its configuration like the server). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted on SIGINT/SIGTERM: an export stops and removes its temp file. */
  readonly signal?: AbortSignal
}

/** A usage problem: printed with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'

  constructor (message: string, readonly command?: string) {
    super(message)
  }
}

/** Write one line of diagnostics to stderr, prefixed with the program name. */
export function say (io: CliIo, message: string): void {
  io.stderr.write(`kiln-export: ${message}\n`)
}
