import { once } from 'node:events'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { request } from 'undici'
import { startCli } from './cli-process.js'

// Each test starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

/** Wait for the JSON log line that says where the server listens, and answer its origin. */
async function listeningOrigin (stdout: NodeJS.ReadableStream): Promise<string> {
  let buffered = ''
  for await (const chunk of stdout) {
    buffered += String(chunk)
    for (const line of buffered.split('\n')) {
      const match = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(line)
      if (match?.[1] !== undefined) return match[1]
    }
  }
  throw new Error(`the server never said it was listening: ${buffered}`)
}

describe('kiln-export serve', () => {
  it('serves the given project on the given host and port, and stops on SIGTERM with exit 0', async () => {
    const child = startCli(['serve', '--project', 'examples/kiln-project', '--port', '0', '--host', '127.0.0.1'], { env: { LOG_FORMAT: 'json' } })
    onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
    if (child.stdout === null) throw new Error('no stdout')
    const origin = await listeningOrigin(child.stdout)
    child.stdout.resume()

    const health = await request(`${origin}/health`)
    expect(health.statusCode).toBe(200)
    expect(await health.body.json()).toEqual({ status: 'ok' })
    const datasets = await request(`${origin}/datasets`)
    const body = await datasets.body.json() as { datasets: Array<{ id: string }> }
    expect(body.datasets.map((d) => d.id)).toEqual(['150621256807'])

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await exited as [number | null]
    expect(code, stderr).toBe(0)
  })

  it('exits 2 naming the variable when the environment is invalid', async () => {
    const child = startCli(['serve', '--port', '0'], { env: { LOG_LEVEL: 'loud' } })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
    child.stdout?.resume()
    const [code] = await once(child, 'exit') as [number | null]
    expect(code).toBe(2)
    expect(stderr).toMatch(/^kiln-export: Invalid configuration: LOG_LEVEL /)
  })
})
