import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { onTestFinished } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname

/** The real executable (src/server.ts) in a child process, with its JSON log lines. */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly origin: string
  readonly logs: string[]
}

/**
 * Start src/server.ts and wait for its "listening" log line; killed when the test finishes.
 * `openFiles` lowers the child's open-file limit (`ulimit -n`), leaving the test's own alone.
 */
export async function startServerProcess (env: Record<string, string>, options: { openFiles?: number } = {}): Promise<ServerProcess> {
  const args = ['--import', 'tsx', 'src/server.ts']
  const [command, argv] = options.openFiles === undefined
    ? [process.execPath, args]
    : ['bash', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...args]]
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: string[] = []
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited early (${String(code)}): ${logs.join('\n')}`)))
    lines.on('line', (line) => {
      logs.push(line)
      const match = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(line)
      if (match?.[1] !== undefined) resolve(match[1])
    })
  })
  return { child, origin, logs }
}
