import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client, errors } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { start as startIdleProxy, type IdleProxy } from '../../bench/lib/idle-proxy.js'
import { loadConfig } from '../../src/config.js'
import { openExportJobs } from '../../src/jobs/index.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type DatasetSource } from '../../src/source/types.js'
import { wrappedCatalog } from '../helpers/faulty-catalog.js'
import { getBytes, requestJson, tempExportsDir, waitForJob } from '../helpers/jobs.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Issue 16's "done when", scaled down: a proxy that closes connections idle for IDLE_MS (as an AWS
 * ALB does after 60 s) cuts the sync export of a split whose check pass takes about 3× that, while
 * the export job of the same split, through the same proxy, completes with the same bytes.
 * Real server on a real port, real files, undici; the check pass is slowed (not the streaming one).
 */

const IDLE_MS = 1000
const CHECK_MS = 3300
const RUNS = 200
const SPLIT = '900000000001'
const BODY = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'Be brief.' }

async function proxyTo (origin: string): Promise<IdleProxy> {
  const proxy = await startIdleProxy({ target: Number(new URL(origin).port), idleMs: IDLE_MS })
  onTestFinished(proxy.close)
  return proxy
}

function clientOf (origin: string): Client {
  // A short keep-alive (as a client behind an ALB should have): no request reuses a connection the proxy may be closing.
  const client = new Client(origin, { keepAliveTimeout: 10, keepAliveMaxTimeout: 10 })
  onTestFinished(async () => { await client.destroy() })
  return client
}

/** A mounted project whose export check pass (each source's first read of its runs) takes about CHECK_MS. */
async function slowServer () {
  const project = await makeKilnProject()
  const ids = Array.from({ length: RUNS }, (_, i) => String(500000 + i))
  for (const id of ids) await project.writeRun(id, { output: `answer ${id} `.repeat(20) })
  await project.writeSplit(SPLIT, { train: ids })
  const passes = new WeakMap<DatasetSource, number>()
  const catalog = wrappedCatalog(new KilnProjects(project.root), async function * (source, runIds, signal) {
    const pass = (passes.get(source) ?? 0) + 1
    passes.set(source, pass)
    for await (const batch of source.runs(runIds, signal)) {
      if (pass === 1) await sleep((CHECK_MS * batch.length) / runIds.length, undefined, { signal })
      yield batch
    }
  })
  const exportsDir = await tempExportsDir()
  const config = { ...loadConfig({}), exportsDir }
  const jobs = await openExportJobs(config, { catalog })
  return startServer(config, { catalog, jobs })
}

describe('behind a proxy that closes connections idle for 1 s', () => {
  it('the proxy really cuts a silent connection after idleMs, and only then', async () => {
    const target = await startServer()
    const proxy = await proxyTo(target.origin)
    const socket = connect(proxy.port, '127.0.0.1')
    onTestFinished(() => { socket.destroy() })
    socket.on('error', () => {})
    await once(socket, 'connect')
    const opened = performance.now()
    const closed = once(socket, 'close')
    // Not cut while bytes pass: a byte every 400 ms for 1.6 s keeps it open.
    for (let i = 0; i < 4; i++) {
      await sleep(IDLE_MS * 0.4)
      socket.write('GET /health HTTP/1.1\r\n'.slice(i, i + 1))
    }
    expect(socket.destroyed).toBe(false)
    const silentFrom = performance.now()
    await closed
    const silentMs = performance.now() - silentFrom
    expect(performance.now() - opened).toBeGreaterThan(IDLE_MS * 1.5)
    expect(silentMs).toBeGreaterThanOrEqual(IDLE_MS - 50)
    expect(silentMs).toBeLessThan(IDLE_MS + 700)
    expect(proxy.cut()).toBe(1)
  })

  it('cuts the sync export before any response, while the export job completes through it with the same bytes', async () => {
    const server = await slowServer()
    const proxy = await proxyTo(server.origin)
    const proxyOrigin = `http://127.0.0.1:${proxy.port}`
    const path = `/datasets/${SPLIT}/export`

    // The sync export through the proxy, and the same export made directly (the reference bytes), at once.
    const proxied = clientOf(proxyOrigin)
    const started = performance.now()
    let status: number | undefined
    const [cut, direct] = await Promise.all([
      proxied.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(BODY) })
        .then(async (response) => { status = response.statusCode; await response.body.dump(); return undefined }, (err: unknown) => err),
      (async () => {
        const t0 = performance.now()
        const answer = await postJson(server.client, path, BODY)
        return { ...answer, ms: performance.now() - t0 }
      })()
    ])
    const cutAfterMs = performance.now() - started
    expect(status).toBeUndefined()
    expect(cut).toBeInstanceOf(errors.SocketError)
    expect((cut as errors.SocketError).code).toBe('UND_ERR_SOCKET')
    expect(proxy.cut()).toBe(1)
    // Cut by the idle timeout, long before the server would have answered.
    expect(cutAfterMs).toBeGreaterThanOrEqual(IDLE_MS - 50)
    expect(direct.status, direct.text).toBe(200)
    expect(direct.headers['x-export-line-count']).toBe(String(RUNS))
    expect(direct.ms).toBeGreaterThanOrEqual(3 * IDLE_MS)

    // The job, through the same proxy: each request is short, so none is idle long enough to be cut.
    const client = clientOf(proxyOrigin)
    const t0 = performance.now()
    const created = await requestJson(client, 'POST', '/exports', { dataset_id: SPLIT, ...BODY })
    expect(created.status, JSON.stringify(created.json)).toBe(202)
    const done = await waitForJob(client, created.json.id)
    const jobMs = performance.now() - t0
    expect(done.state, JSON.stringify(done)).toBe('done')
    expect(jobMs).toBeGreaterThanOrEqual(3 * IDLE_MS)
    const file = await getBytes(client, done.links.file)
    expect(file.status).toBe(200)
    expect(file.bytes.equals(Buffer.from(direct.text, 'utf8'))).toBe(true)
    expect(file.headers.etag).toBe(`"${String(done.result.sha256)}"`)
    // No further connection was cut: the sync export's was the only one.
    expect(proxy.cut()).toBe(1)
  }, 30_000)
})
