import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { type ProjectMeta } from '../generate-project.js'
import { agent, requestJson } from './client.js'
import { log } from './measure.js'
import { HEADLINE_FORMAT, HEADLINE_STRATEGY, type Options } from './options.js'
import { freePort, loadAverage, startJobWorker, startKilnServer, type ServerHandle } from './processes.js'
import { type JobsRound } from './results.js'
import { MIB, fixed, seconds } from './stats.js'

/*
 * The export jobs scenario (`--only jobs`): a queue of K exports of one project's train split
 * (distinct system messages, so K distinct jobs), drained by 1 and then by 2 worker processes.
 * Each round has its own Redis (`redis-server`, no persistence), one API server with
 * EXPORT_WORKERS=false and a results folder (EXPORTS_DIR) the API and workers share. The jobs are
 * queued first, then the workers start: the wall time runs from their start to the last job done,
 * start-up included. Memory is each worker's peak RSS (VmHWM), as for the servers.
 *
 * Written against the HTTP contract (POST /exports → 202 {id, state, links}; GET /exports/{id} →
 * {state, progress}). A server without the job API answers POST /exports with 404: the scenario is
 * then skipped with a line saying so, and the rest of the bench runs as before.
 */

interface Redis { readonly url: string, stop: () => Promise<void> }

/** `redis-server` on a free port of 127.0.0.1, without persistence; undefined when it is not installed. */
async function startRedis (): Promise<Redis | undefined> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-4000) })
  const failed = await Promise.race([once(child, 'spawn').then(() => undefined), once(child, 'error').then(([err]) => err as Error)])
  if (failed !== undefined) return undefined
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const deadline = Date.now() + 10_000
  while (!await ping(port)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not answer PING on port ${port}:\n${stderr}`)
    }
    await sleep(50)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop () {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

/** Whether a Redis answers PING on the port. */
async function ping (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false) })
    socket.once('error', () => { resolve(false) })
    socket.once('connect', () => { socket.write('PING\r\n') })
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1')
      if (answer.includes('\r\n')) {
        socket.destroy()
        resolve(answer.startsWith('+PONG'))
      }
    })
  })
}

/** The job request of the i-th job: the headline export with its own system message. */
function jobBody (meta: ProjectMeta, i: number): Record<string, unknown> {
  return {
    dataset_id: meta.datasetId,
    split_name: 'train',
    format: HEADLINE_FORMAT,
    data_strategy: HEADLINE_STRATEGY,
    system_message: `${meta.systemMessage} (bench job ${i + 1})`
  }
}

interface QueuedJob { readonly id: string, readonly links: Record<string, unknown> }

/** A link of the job's answer to its result file, if the API gives one. */
function downloadLink (job: QueuedJob): string | undefined {
  const entries = Object.entries(job.links).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
  return entries.find(([name, href]) => /download|result|file/i.test(name) || /\/(download|result)\b/.test(href))?.[1]
}

const DONE_STATES = new Set(['done', 'failed', 'cancelled'])

/**
 * Poll every job until each is done; answers when each was seen done (performance.now()). Throws
 * when one fails or is cancelled, or after `timeoutMs`.
 */
async function waitDone (origin: string, jobs: readonly QueuedJob[], timeoutMs: number): Promise<number[]> {
  const pending = new Set(jobs.map((j) => j.id))
  const doneAt: number[] = []
  const deadline = Date.now() + timeoutMs
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const answer = await requestJson('GET', `${origin}/exports/${encodeURIComponent(id)}`)
      const state = answer.json?.state
      if (answer.status !== 200 || typeof state !== 'string') throw new Error(`GET /exports/${id}: HTTP ${answer.status}: ${answer.text.slice(0, 2000)}`)
      if (!DONE_STATES.has(state)) continue
      if (state !== 'done') throw new Error(`job ${id} ended ${state}: ${answer.text.slice(0, 2000)}`)
      pending.delete(id)
      doneAt.push(performance.now())
    }
    if (pending.size === 0) return doneAt
    if (Date.now() > deadline) throw new Error(`${pending.size} of ${jobs.length} jobs not done after ${seconds(timeoutMs)} s`)
    await sleep(100)
  }
  return doneAt
}

/** Lines of a downloaded result. */
async function countLines (url: string): Promise<number> {
  const response = await request(url, { dispatcher: agent })
  if (response.statusCode !== 200) {
    const text = await response.body.text()
    throw new Error(`GET ${url}: HTTP ${response.statusCode}: ${text.slice(0, 500)}`)
  }
  let lines = 0
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++
  }
  return lines
}

/** One round: K jobs queued, then drained by `workers` worker processes. A string: why it was skipped. */
export async function drainRound (options: Options, meta: ProjectMeta, jobs: number, workers: number): Promise<JobsRound | string> {
  const redis = await startRedis()
  if (redis === undefined) return 'redis-server is not installed (apt-get install redis-server)'
  const exportsDir = await mkdtemp(join(tmpdir(), 'kiln-export-bench-jobs-'))
  const env = { REDIS_URL: redis.url, EXPORTS_DIR: exportsDir, ...options.serverEnv }
  const started: ServerHandle[] = []
  try {
    const api = await startKilnServer({ mode: options.server, projectsDir: meta.projectsDir, nodeArgs: options.nodeArgs, env: { ...env, EXPORT_WORKERS: 'false' } })
    started.push(api)
    // An empty body: 400 where the route exists, 404 where it does not (and no job is made).
    const probe = await requestJson('POST', `${api.origin}/exports`, {})
    if (probe.status === 404) return 'POST /exports answered 404: this build has no job API (issue 16)'

    const queued: QueuedJob[] = []
    for (let i = 0; i < jobs; i++) {
      const answer = await requestJson('POST', `${api.origin}/exports`, jobBody(meta, i))
      const job = answer.json
      if (answer.status !== 202 || typeof job?.id !== 'string') throw new Error(`POST /exports: HTTP ${answer.status}, expected 202 with an id: ${answer.text.slice(0, 2000)}`)
      queued.push({ id: job.id, links: typeof job.links === 'object' && job.links !== null ? job.links as Record<string, unknown> : {} })
    }
    if (new Set(queued.map((j) => j.id)).size !== jobs) throw new Error('two job requests got the same id: the jobs are not distinct')

    const t0 = performance.now()
    const pool: ServerHandle[] = []
    for (let w = 0; w < workers; w++) {
      const worker = await startJobWorker({ mode: options.server, projectsDir: meta.projectsDir, nodeArgs: options.nodeArgs, env })
      pool.push(worker)
      started.push(worker)
    }
    const doneAt = await waitDone(api.origin, queued, 60 * 60_000)
    const wallMs = performance.now() - t0
    const firstDoneMs = Math.min(...doneAt) - t0
    const workerPeakRss = pool.map((w) => w.peakRss())
    const workerCpuS = pool.map((w) => w.cpuSeconds())
    const apiPeakRss = api.peakRss()

    // Each result has the split's lines (where the API links to the file).
    let verified = 0
    for (const job of queued) {
      const link = downloadLink(job)
      if (link === undefined) continue
      const lines = await countLines(new URL(link, api.origin).href)
      if (lines !== meta.trainCount) throw new Error(`job ${job.id}: ${lines} lines, expected ${meta.trainCount}`)
      verified++
    }
    const loadAvg = loadAverage()
    log(`    ${workers} worker${workers === 1 ? '' : 's'}: ${jobs} jobs in ${seconds(wallMs)} s (first done after ${seconds(firstDoneMs)} s); worker peak RSS ${workerPeakRss.map((b) => fixed(b / MIB)).join(', ')} MiB; ` +
      `worker CPU ${workerCpuS.map((c) => fixed(c, 1)).join(', ')} s; API peak RSS ${fixed(apiPeakRss / MIB)} MiB; ${verified} of ${jobs} results' lines checked; load average ${fixed(loadAvg, 2)}`)
    return { workers, jobs, wallMs, firstDoneMs, workerPeakRss, workerCpuS, apiPeakRss, verified, loadAvg }
  } catch (err) {
    for (const handle of started) log(handle.stderr())
    throw err
  } finally {
    for (const handle of started.reverse()) await handle.stop()
    await redis.stop()
    await rm(exportsDir, { recursive: true, force: true })
  }
}
