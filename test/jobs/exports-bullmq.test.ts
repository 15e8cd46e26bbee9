import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_PROJECT_DIR, loadConfig } from '../../src/config.js'
import { MOUNTED_EXAMPLE } from '../../src/http/schemas/export-request.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { getBytes, requestJson, tempExportsDir, waitForJob } from '../helpers/jobs.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { startRedis, startWorkerProcess, type TestRedis } from '../helpers/redis.js'
import { postJson, startServer } from '../helpers/server.js'
import { startServerProcess } from '../helpers/server-process.js'

/*
 * The BullMQ engine against a real redis-server started by each test on a free port, with worker
 * processes (test/jobs/fixtures/worker.ts: the worker code path with a slow result store, or the
 * real `kiln-export worker`) and a server that only queues (EXPORT_WORKERS=false).
 */

const DATASET = '150621256807'
const catalog = new KilnProjects(EXAMPLE_PROJECT_DIR)
const LOCK_MS = 2000

async function setUp (redis: TestRedis) {
  const exportsDir = await tempExportsDir()
  const workerEnv = { REDIS_URL: redis.url, EXPORTS_DIR: exportsDir, KILN_PROJECTS_DIR: EXAMPLE_PROJECT_DIR, EXPORT_JOB_LOCK_MS: String(LOCK_MS) }
  const server = await startServer({ ...loadConfig({}), redisUrl: redis.url, exportsDir, exportWorkers: false, exportJobLockMs: LOCK_MS }, { catalog })
  return { ...server, exportsDir, workerEnv }
}

/** The sync route's bytes for a request body. */
async function syncBytes (client: Parameters<typeof postJson>[0], body: Record<string, unknown>): Promise<string> {
  const sync = await postJson(client, `/datasets/${DATASET}/export`, body)
  expect(sync.status).toBe(200)
  return sync.text
}

describe('export jobs on BullMQ (REDIS_URL)', () => {
  it('spreads the jobs of one queue over two worker processes, each result the sync export\'s bytes', async () => {
    const redis = await startRedis()
    const { client, workerEnv } = await setUp(redis)
    const slow = { ...workerEnv, WORKER_SLOW_WRITE_MS: '50', WORKER_CHUNK_BYTES: '512' }
    const workers = await Promise.all([startWorkerProcess(slow), startWorkerProcess(slow)])
    const bodies = [1, 2, 3, 4].map((n) => ({ ...MOUNTED_EXAMPLE, system_message: `Joke number ${n}.` }))
    const created = await Promise.all(bodies.map(async (body) => await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...body })))
    for (const answer of created) expect(answer.status, JSON.stringify(answer.json)).toBe(202)
    for (const [i, answer] of created.entries()) {
      const done = await waitForJob(client, answer.json.id)
      expect(done.state, JSON.stringify(done)).toBe('done')
      const expected = await syncBytes(client, bodies[i] ?? {})
      const file = await getBytes(client, done.links.file)
      expect(file.bytes.toString()).toBe(expected)
      expect(done.result.sha256).toBe(createHash('sha256').update(expected).digest('hex'))
    }
    const [a, b] = workers.map((worker) => worker.started())
    expect(a?.length, 'worker 1 took jobs').toBeGreaterThan(0)
    expect(b?.length, 'worker 2 took jobs').toBeGreaterThan(0)
    expect(new Set([...a ?? [], ...b ?? []])).toEqual(new Set(created.map((answer) => answer.json.id)))
  })

  it('redoes the job of a worker killed with SIGKILL mid-write on another worker: the same bytes, nothing half-written visible', async () => {
    const redis = await startRedis()
    const { client, workerEnv, exportsDir } = await setUp(redis)
    const slow = { ...workerEnv, WORKER_SLOW_WRITE_MS: '150', WORKER_CHUNK_BYTES: '256' }
    const workers = await Promise.all([startWorkerProcess(slow), startWorkerProcess(slow)])
    const created = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    const id = String(created.json.id)
    const writing = await waitForJob(client, id, (job) => job.state === 'writing' && job.progress.bytes_written > 0)
    expect(writing.progress.runs_checked).toBe(6)
    const holder = workers.find((worker) => worker.started().includes(id))
    const other = workers.find((worker) => worker !== holder)
    expect(holder).toBeDefined()
    holder?.child.kill('SIGKILL')

    const done = await waitForJob(client, id)
    expect(done.state).toBe('done')
    expect(done.attempts).toBeGreaterThanOrEqual(2)
    expect(other?.started()).toContain(id)
    const file = await getBytes(client, done.links.file)
    expect(file.bytes.toString()).toBe(await syncBytes(client, MOUNTED_EXAMPLE))
    // The killed worker's temp file is hidden (and swept by age); only the result is visible.
    expect((await readdir(exportsDir)).filter((name) => !name.startsWith('.')).sort()).toEqual([`${id}.jsonl`, `${id}.manifest.json`])
  })

  it('lets a worker stopped with SIGTERM mid-job finish that job before it exits', async () => {
    const redis = await startRedis()
    const { client, workerEnv } = await setUp(redis)
    const worker = await startWorkerProcess({ ...workerEnv, WORKER_SLOW_WRITE_MS: '100', WORKER_CHUNK_BYTES: '256' })
    const created = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    await waitForJob(client, created.json.id, (job) => job.state === 'writing' && job.progress.bytes_written > 0)
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => { resolve(code) }))
    worker.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    const done = await requestJson(client, 'GET', `/exports/${String(created.json.id)}`)
    expect(done.json).toMatchObject({ state: 'done', attempts: 1 })
    expect(worker.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(['export job done', 'worker closed']))
    expect((await getBytes(client, done.json.links.file)).bytes.toString()).toBe(await syncBytes(client, MOUNTED_EXAMPLE))
  })

  it('completes jobs queued before Redis restarted, and the API answers 503 while Redis is down', async () => {
    const redis = await startRedis({ persist: true })
    const { client, workerEnv } = await setUp(redis)
    const bodies = [1, 2].map((n) => ({ ...MOUNTED_EXAMPLE, system_message: `Restart ${n}.` }))
    const created = await Promise.all(bodies.map(async (body) => await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...body })))
    for (const answer of created) expect(answer.json.state).toBe('queued')

    await redis.stop()
    const down = await requestJson(client, 'GET', `/exports/${String(created[0]?.json.id)}`)
    expect(down.status).toBe(503)
    expect(down.json.code).toBe('KEX_JOB_QUEUE_UNAVAILABLE')
    expect(down.headers['retry-after']).toBeDefined()
    await redis.start()

    // The real `kiln-export worker`, started after the restart.
    await startWorkerProcess(workerEnv, { cli: true })
    for (const [i, answer] of created.entries()) {
      const done = await waitForJob(client, answer.json.id)
      expect(done.state).toBe('done')
      expect((await getBytes(client, done.links.file)).bytes.toString()).toBe(await syncBytes(client, bodies[i] ?? {}))
    }
  })

  it('gives one job for the same POST twice, fails bad data once without retrying, and cancels a running job', async () => {
    const redis = await startRedis()
    const { client, workerEnv } = await setUp(redis)
    await startWorkerProcess({ ...workerEnv, WORKER_SLOW_WRITE_MS: '100', WORKER_CHUNK_BYTES: '256' })

    const bad = inlineBody([kilnRun('1'), kilnRun('2', { output: 'not json' })], { format: 'openai_chat_json_schema_jsonl' })
    const sync = await postJson(client, '/datasets/100000000001/export', bad)
    const [first, second] = await Promise.all([1, 2].map(async () => await requestJson(client, 'POST', '/exports', { dataset_id: '100000000001', ...bad })))
    expect(first?.json.id).toBe(second?.json.id)
    const failed = await waitForJob(client, first?.json.id)
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 })
    expect(failed.error).toEqual(sync.json())

    const created = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    await waitForJob(client, created.json.id, (job) => job.state === 'writing')
    const cancelled = await requestJson(client, 'DELETE', `/exports/${String(created.json.id)}`)
    expect(cancelled.status).toBe(200)
    expect(cancelled.json.state).toBe('cancelled')
    expect((await requestJson(client, 'GET', `/exports/${String(created.json.id)}`)).json.state).toBe('cancelled')
    // Posted again: it runs again, to the end.
    const again = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    expect(again.status).toBe(202)
    expect((await waitForJob(client, again.json.id)).state).toBe('done')
    expect((await requestJson(client, 'DELETE', `/exports/${String(created.json.id)}`)).status).toBe(204)
    expect((await requestJson(client, 'GET', `/exports/${String(created.json.id)}`)).status).toBe(404)
  })

  it('runs jobs in the server itself when EXPORT_WORKERS is on (the default), as `npm start` does', async () => {
    const redis = await startRedis()
    const exportsDir = await tempExportsDir()
    const server = await startServerProcess({ REDIS_URL: redis.url, EXPORTS_DIR: exportsDir })
    const client = new Client(server.origin, { keepAliveTimeout: 10, keepAliveMaxTimeout: 10 })
    onTestFinished(async () => { await client.destroy() })
    const created = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    expect(created.status).toBe(202)
    const done = await waitForJob(client, created.json.id)
    expect(done.state).toBe('done')
    expect((await getBytes(client, done.links.file)).bytes.toString()).toBe(await syncBytes(client, MOUNTED_EXAMPLE))
    expect(server.logs.some((line) => line.includes('"msg":"export jobs ready"') && line.includes('"engine":"bullmq"'))).toBe(true)
  })

  it('refuses to start `kiln-export worker` without REDIS_URL, saying what to set', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { ...process.env, REDIS_URL: '' },
      encoding: 'utf8'
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('set REDIS_URL')
  })
})
