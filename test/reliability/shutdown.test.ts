import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { makeKilnProject } from '../helpers/kiln-project.js'

const ROOT = new URL('../../', import.meta.url).pathname

/** Start the real executable (src/server.ts) and wait for its "listening" log line. */
async function startProcess (env: Record<string, string>): Promise<{ child: ChildProcess, origin: string, logs: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
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

/** Polls (up to 10 s) until a new connection to `origin` is refused; false if it never is. */
async function newConnectionsRefused (origin: string): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const late = new Client(origin)
    try {
      const response = await late.request({ method: 'GET', path: '/health' })
      await response.body.dump()
    } catch {
      return true
    } finally {
      await late.destroy()
    }
  }
  return false
}

describe('graceful shutdown', () => {
  it('lets an export running at SIGTERM finish intact, refuses new connections, then exits 0', async () => {
    const project = await makeKilnProject()
    const ids = Array.from({ length: 3000 }, (_, i) => String(700000 + i))
    for (const id of ids) await project.writeRun(id, { output: `answer ${id} `.repeat(150) })
    await project.writeSplit('900000000001', { train: ids })
    const { child, origin, logs } = await startProcess({ KILN_PROJECTS_DIR: project.root, SHUTDOWN_GRACE_MS: '20000' })

    const client = new Client(origin)
    onTestFinished(async () => { await client.destroy() })
    const response = await client.request({
      method: 'POST',
      path: '/datasets/900000000001/export',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' })
    })
    expect(response.statusCode).toBe(200)
    const chunks: Buffer[] = []
    let signalled = false
    const exited = once(child, 'exit')
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer)
      if (!signalled) {
        signalled = true
        child.kill('SIGTERM')
        // The server stops listening soon after the signal (how soon depends on the machine's
        // load): new connections must be refused while this export is still streaming.
        expect(await newConnectionsRefused(origin)).toBe(true)
      }
    }
    const body = Buffer.concat(chunks)
    expect(body.toString('utf8').split('\n')).toHaveLength(3001)
    expect(response.trailers['x-export-lines']).toBe('3000')
    expect(response.trailers['x-export-sha256']).toBe(createHash('sha256').update(body).digest('hex'))
    // The client keeps its connection alive: the server must still close it and exit.
    const [code] = await exited
    expect(code).toBe(0)
    expect(logs.some((line) => line.includes('shutting down'))).toBe(true)
  }, 60_000)
})
