import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { type Client } from 'undici'
import { onTestFinished } from 'vitest'

export { slowStore } from './slow-store.js'

/** A temp folder for results (EXPORTS_DIR), removed after the test. */
export async function tempExportsDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-results-test-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A JSON request's status and body. */
export async function requestJson (client: Client, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, json: any }> {
  const response = await client.request({
    method,
    path,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  })
  const text = await response.body.text()
  return { status: response.statusCode, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) }
}

/** Poll GET /exports/{id} until `until` says so (or the state is final); answers the last body. */
export async function waitForJob (client: Client, id: string, until: (job: any) => boolean = (job) => ['done', 'failed', 'cancelled'].includes(job.state), timeoutMs = 25_000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { status, json } = await requestJson(client, 'GET', `/exports/${id}`)
    if (status !== 200) throw new Error(`GET /exports/${id}: ${status} ${JSON.stringify(json)}`)
    if (until(json)) return json
    if (Date.now() > deadline) throw new Error(`job ${id} still ${String(json.state)}: ${JSON.stringify(json)}`)
    await delay(50)
  }
}

/** GET a path and read the raw bytes. */
export async function getBytes (client: Client, path: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, bytes: Buffer }> {
  const response = await client.request({ method: 'GET', path, headers })
  const bytes = Buffer.from(await response.body.arrayBuffer())
  return { status: response.statusCode, headers: response.headers, bytes }
}
