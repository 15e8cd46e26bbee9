import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { startServerProcess } from '../helpers/server-process.js'

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
    const { child, origin, logs } = await startServerProcess({ KILN_PROJECTS_DIR: project.root, SHUTDOWN_GRACE_MS: '20000' })

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
