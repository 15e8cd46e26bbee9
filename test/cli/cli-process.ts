import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root: the CLI runs from here, as `npm run cli` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** What a finished CLI process left behind. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
}

/** Start `node --import tsx src/cli/main.ts ...args` as a real process (the caller reads its streams). */
export function startCli (args: readonly string[], options: { cwd?: string, env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `${ROOT}src/cli/main.ts`, ...args], {
    cwd: options.cwd ?? ROOT,
    // A clean environment: no LOG_*, PORT or KILN_* leaking in from the developer's shell.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

/** Run the CLI to its end and collect its exit status, stdout (bytes) and stderr. */
export async function runCli (args: readonly string[], options: { cwd?: string, env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = startCli(args, options)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') })
    })
  })
}
