import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { type ProjectMeta } from '../generate-project.js'
import { requestJson, type JobAnswer } from './client.js'
import { start as startIdleProxy } from './idle-proxy.js'
import { exportBody, log } from './measure.js'
import { HEADLINE_FORMAT, HEADLINE_STRATEGY, type Options } from './options.js'
import { startKilnServer, type ServerHandle } from './processes.js'
import { type ProxyJob, type ProxyResult, type ProxySync } from './results.js'
import { MB, count, fixed, seconds } from './stats.js'

/*
 * The idle-proxy scenario (`--only proxy`): a loopback proxy that closes connections idle for
 * `--proxy-idle-ms` (default 60 s, an AWS ALB's default) in front of one server (in-process job
 * engine: no REDIS_URL, EXPORT_WORKERS=true, a temp EXPORTS_DIR) on the `--proxy-at` project.
 * Through the proxy: the sync export (completed with its TTFB, or cut after N s), then an export
 * job (POST, poll every 2 s, download; its SHA-256 checked against the job's manifest).
 */

const POLL_MS = 2000

/**
 * The client behind the proxy opens one connection per request (pipelining 0: no keep-alive), as a
 * client behind an idle-closing proxy should: a kept-alive connection idle between two polls is
 * one the proxy may be closing as the next request is written on it. No timeouts of its own.
 */
function proxyClient (): Agent {
  return new Agent({ pipelining: 0, headersTimeout: 0, bodyTimeout: 0 })
}

async function syncThroughProxy (viaProxy: Agent, origin: string, meta: ProjectMeta): Promise<ProxySync> {
  const started = performance.now()
  let ttfbMs: number | undefined
  let status: number | undefined
  let bytes = 0
  let lines = 0
  try {
    const response = await request(`${origin}/datasets/${meta.datasetId}/export`, {
      method: 'POST',
      body: exportBody(meta, HEADLINE_FORMAT, HEADLINE_STRATEGY),
      headers: { 'content-type': 'application/json' },
      dispatcher: viaProxy
    })
    ttfbMs = performance.now() - started
    status = response.statusCode
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++
    }
    const totalMs = performance.now() - started
    if (status !== 200) return { outcome: 'failed', status, ttfbMs, afterMs: totalMs, bytes, lines, error: `HTTP ${status}` }
    return { outcome: 'completed', status, ttfbMs, afterMs: totalMs, bytes, lines }
  } catch (err) {
    const error = err instanceof Error ? `${err.name}${'code' in err ? ` ${String(err.code)}` : ''}: ${err.message}` : String(err)
    return { outcome: 'cut', ...(status === undefined ? {} : { status }), ...(ttfbMs === undefined ? {} : { ttfbMs }), afterMs: performance.now() - started, bytes, lines, error }
  }
}

async function jobThroughProxy (viaProxy: Agent, origin: string, meta: ProjectMeta): Promise<ProxyJob> {
  const started = performance.now()
  const created = await requestJson('POST', `${origin}/exports`, {
    dataset_id: meta.datasetId,
    split_name: 'train',
    format: HEADLINE_FORMAT,
    data_strategy: HEADLINE_STRATEGY,
    system_message: meta.systemMessage
  }, viaProxy)
  const postMs = performance.now() - started
  if (created.status !== 202 || typeof created.json?.id !== 'string') throw new Error(`POST /exports: HTTP ${created.status}, expected 202 with an id: ${created.text.slice(0, 2000)}`)
  const { id } = created.json
  let polls = 0
  let done: JobAnswer | undefined
  for (;;) {
    await sleep(POLL_MS)
    const answer = await requestJson('GET', `${origin}/exports/${encodeURIComponent(id)}`, undefined, viaProxy)
    polls++
    if (answer.status !== 200) throw new Error(`GET /exports/${id}: HTTP ${answer.status}: ${answer.text.slice(0, 2000)}`)
    const state = answer.json?.state
    if (state === 'done') {
      done = answer.json
      break
    }
    if (state === 'failed' || state === 'cancelled') throw new Error(`job ${id} ended ${String(state)}: ${answer.text.slice(0, 2000)}`)
  }
  const doneMs = performance.now() - started
  const file = done?.links?.file
  const link = typeof file === 'string' ? file : `/exports/${id}/file`
  const downloadStarted = performance.now()
  const response = await request(new URL(link, origin).href, { dispatcher: viaProxy })
  if (response.statusCode !== 200) throw new Error(`GET ${link}: HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 500)}`)
  const hash = createHash('sha256')
  let bytes = 0
  let lines = 0
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.length
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++
  }
  const sha256 = hash.digest('hex')
  const downloadMs = performance.now() - downloadStarted
  const manifestSha256 = String(done?.result?.sha256)
  return {
    postMs,
    doneMs,
    polls,
    downloadMs,
    wallMs: performance.now() - started,
    bytes,
    lines,
    sha256,
    manifestSha256,
    matches: sha256 === manifestSha256 && bytes === done?.result?.bytes && lines === done?.result?.lines && lines === meta.trainCount
  }
}

export async function proxyScenario (options: Options, meta: ProjectMeta): Promise<ProxyResult> {
  const idleMs = options.proxyIdleMs
  log(`  a proxy closing connections idle for ${seconds(idleMs)} s in front of a server on a ${count(meta.runs)}-run project (${count(meta.trainCount)}-line train split, ${HEADLINE_FORMAT})`)
  const exportsDir = await mkdtemp(join(tmpdir(), 'kiln-export-bench-proxy-'))
  const viaProxy = proxyClient()
  let server: ServerHandle | undefined
  try {
    server = await startKilnServer({
      mode: options.server,
      projectsDir: meta.projectsDir,
      nodeArgs: options.nodeArgs,
      // The in-process engine (no REDIS_URL) runs the jobs in this server.
      env: { EXPORTS_DIR: exportsDir, EXPORT_WORKERS: 'true', ...options.serverEnv }
    })
    const proxy = await startIdleProxy({ target: server.port, idleMs })
    try {
      const origin = `http://127.0.0.1:${proxy.port}`
      const sync = await syncThroughProxy(viaProxy, origin, meta)
      log(sync.outcome === 'completed'
        ? `    sync export through the proxy: completed, TTFB ${seconds(sync.ttfbMs ?? 0)} s, ${seconds(sync.afterMs)} s, ${fixed(sync.bytes / MB)} MB`
        : `    sync export through the proxy: ${sync.outcome} after ${seconds(sync.afterMs)} s (${sync.status === undefined ? 'no response' : `HTTP ${sync.status}`}, ${count(sync.bytes)} body bytes): ${sync.error ?? ''}`)
      const cutBySync = proxy.cut()
      const job = await jobThroughProxy(viaProxy, origin, meta)
      log(`    export job through the proxy: POST answered in ${seconds(job.postMs)} s, done after ${seconds(job.doneMs)} s (${job.polls} polls), ` +
        `downloaded ${fixed(job.bytes / MB)} MB in ${seconds(job.downloadMs)} s; SHA-256 ${job.matches ? 'equals' : 'DIFFERS from'} the manifest's`)
      if (!job.matches) throw new Error(`job result: sha256 ${job.sha256} bytes ${job.bytes} lines ${job.lines}; manifest sha256 ${job.manifestSha256}; expected ${meta.trainCount} lines`)
      return { runs: meta.runs, lines: meta.trainCount, idleMs, pollMs: POLL_MS, sync, job, cutBySync, cutByJob: proxy.cut() - cutBySync }
    } finally {
      await proxy.close()
    }
  } catch (err) {
    if (server !== undefined) log(server.stderr())
    throw err
  } finally {
    await server?.stop()
    await rm(exportsDir, { recursive: true, force: true })
    await viaProxy.close()
  }
}
