import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { loadConfig, EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { openExportJobs } from '../../src/jobs/index.js'
import { LocalResultStore } from '../../src/jobs/store/local-store.js'
import { MOUNTED_EXAMPLE } from '../../src/http/schemas/export-request.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { getBytes, requestJson, slowStore, tempExportsDir, waitForJob } from '../helpers/jobs.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

const DATASET = '150621256807'
const catalog = new KilnProjects(EXAMPLE_PROJECT_DIR)

async function server (options: { slowMs?: number } = {}) {
  const exportsDir = await tempExportsDir()
  const config = { ...loadConfig({}), exportsDir }
  const store = options.slowMs === undefined ? undefined : slowStore(new LocalResultStore(exportsDir), options.slowMs)
  const jobs = await openExportJobs(config, { catalog, store, tuning: { chunkBytes: 256 } })
  const started = await startServer(config, { catalog, jobs, exportTuning: { chunkBytes: 256 } })
  return { ...started, exportsDir }
}

describe('export jobs, in process (no REDIS_URL)', () => {
  it('writes the bytes the export route streams, served with ETag, Content-Length, ranges and 304', async () => {
    const { client } = await server()
    const sync = await postJson(client, `/datasets/${DATASET}/export`, MOUNTED_EXAMPLE)
    expect(sync.status).toBe(200)

    const created = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE })
    expect(created.status, JSON.stringify(created.json)).toBe(202)
    expect(created.json.id).toMatch(/^ex_[0-9a-f]{32}$/)
    expect(created.headers.location).toBe(`/exports/${String(created.json.id)}`)
    expect(created.json.links).toEqual({ self: `/exports/${String(created.json.id)}`, file: `/exports/${String(created.json.id)}/file` })

    const done = await waitForJob(client, created.json.id)
    const sha256 = createHash('sha256').update(sync.text).digest('hex')
    expect(done).toMatchObject({
      state: 'done',
      attempts: 1,
      dataset_id: DATASET,
      progress: { runs_checked: 6, runs_total: 6, lines_written: 6, bytes_written: Buffer.byteLength(sync.text) },
      result: { lines: 6, bytes: Buffer.byteLength(sync.text), sha256, file_name: 'Jokes v1 -- split-train -- format-openai_chat_json_schema_jsonl -- cot.jsonl', data_strategy: 'final_and_intermediate' }
    })
    expect(done.result.location).toMatch(/^file:\/\//)

    const file = await getBytes(client, done.links.file)
    expect(file.status).toBe(200)
    expect(file.bytes.toString('utf8')).toBe(sync.text)
    expect(file.headers.etag).toBe(`"${sha256}"`)
    expect(file.headers['content-length']).toBe(String(file.bytes.length))
    expect(file.headers['content-type']).toBe(sync.headers['content-type'])
    expect(file.headers['content-disposition']).toBe(sync.headers['content-disposition'])
    expect(file.headers['x-export-line-count']).toBe(sync.headers['x-export-line-count'])
    expect(file.headers['accept-ranges']).toBe('bytes')

    // A broken download resumes: the rest from byte 1000, and the two parts are the file.
    const rest = await getBytes(client, done.links.file, { range: 'bytes=1000-', 'if-range': `"${sha256}"` })
    expect(rest.status).toBe(206)
    expect(rest.headers['content-range']).toBe(`bytes 1000-${file.bytes.length - 1}/${file.bytes.length}`)
    expect(Buffer.concat([file.bytes.subarray(0, 1000), rest.bytes]).equals(file.bytes)).toBe(true)
    const middle = await getBytes(client, done.links.file, { range: 'bytes=10-19' })
    expect(middle.status).toBe(206)
    expect(middle.bytes.equals(file.bytes.subarray(10, 20))).toBe(true)
    const suffix = await getBytes(client, done.links.file, { range: 'bytes=-5' })
    expect(suffix.bytes.equals(file.bytes.subarray(-5))).toBe(true)
    // An If-Range naming another file: the whole file.
    const changed = await getBytes(client, done.links.file, { range: 'bytes=1000-', 'if-range': '"0000"' })
    expect(changed.status).toBe(200)
    expect(changed.bytes.equals(file.bytes)).toBe(true)

    const past = await getBytes(client, done.links.file, { range: `bytes=${file.bytes.length}-` })
    expect(past.status).toBe(416)
    expect(past.headers['content-range']).toBe(`bytes */${file.bytes.length}`)
    expect(JSON.parse(past.bytes.toString()).code).toBe('KEX_RANGE_NOT_SATISFIABLE')

    const cached = await getBytes(client, done.links.file, { 'if-none-match': `"${sha256}"` })
    expect(cached.status).toBe(304)
    expect(cached.bytes.length).toBe(0)
    // Never compressed: Content-Length and ranges are of the stored bytes.
    const gzipAsked = await getBytes(client, done.links.file, { 'accept-encoding': 'gzip' })
    expect(gzipAsked.headers['content-encoding']).toBeUndefined()
    expect(gzipAsked.bytes.equals(file.bytes)).toBe(true)
  })

  it('answers the same job for the same request over the same data, and a new one when the data changes', async () => {
    const { client, exportsDir } = await server({ slowMs: 20 })
    const body = inlineBody([kilnRun('1'), kilnRun('2')], { dataset_id: '100000000001' })
    const [first, second] = await Promise.all([requestJson(client, 'POST', '/exports', body), requestJson(client, 'POST', '/exports', body)])
    expect(first.json.id).toBe(second.json.id)
    expect([first.status, second.status]).toEqual([202, 202])
    // Defaults spelt out are the same request; key order and whitespace of the body do not matter.
    const spelt = await requestJson(client, 'POST', '/exports', { include_tool_calls: true, data_strategy: 'final_only', thinking_instructions: null, ...body })
    expect(spelt.json.id).toBe(first.json.id)
    const done = await waitForJob(client, first.json.id)
    expect(done.attempts).toBe(1)
    // Once done, the same POST answers 200 with the finished job: no second run.
    const again = await requestJson(client, 'POST', '/exports', body)
    expect(again.status).toBe(200)
    expect(again.json).toMatchObject({ id: first.json.id, state: 'done', attempts: 1 })
    expect((await readdir(exportsDir)).filter((name) => !name.startsWith('.')).sort()).toEqual([`${String(first.json.id)}.jsonl`, `${String(first.json.id)}.manifest.json`])

    const changed = await requestJson(client, 'POST', '/exports', inlineBody([kilnRun('1'), kilnRun('2', { output: 'changed' })], { dataset_id: '100000000001' }))
    expect(changed.json.id).not.toBe(first.json.id)
    const other = await requestJson(client, 'POST', '/exports', { ...body, system_message: 'Be long.' })
    expect(other.json.id).not.toBe(first.json.id)
  })

  it('tells a preference export\'s pairings apart: repair (the default, also spelt out) and rating are two jobs', async () => {
    const { client } = await server()
    const runs = [kilnRun('1', { repaired: 'better 1' }), kilnRun('2', { repaired: 'better 2' })]
    const body = inlineBody(runs, { dataset_id: '100000000001', format: 'openai_preference_jsonl' })
    const byDefault = await requestJson(client, 'POST', '/exports', body)
    expect(byDefault.status, JSON.stringify(byDefault.json)).toBe(202)
    const spelt = await requestJson(client, 'POST', '/exports', { ...body, pair_by: 'repair' })
    expect(spelt.json.id).toBe(byDefault.json.id)
    const byRating = await requestJson(client, 'POST', '/exports', { ...body, pair_by: 'rating' })
    expect(byRating.json.id).not.toBe(byDefault.json.id)
    const [repairDone, ratingDone] = [await waitForJob(client, byDefault.json.id), await waitForJob(client, byRating.json.id)]
    expect([repairDone.state, ratingDone.state]).toEqual(['done', 'done'])
    // Each job's file is its own pairing's export: the bytes and file name the sync route answers.
    const { dataset_id: _datasetId, ...syncBody } = body
    for (const [id, pairBy] of [[byDefault.json.id, 'repair'], [byRating.json.id, 'rating']] as const) {
      const sync = await postJson(client, '/datasets/100000000001/export', { ...syncBody, pair_by: pairBy })
      expect(sync.status, sync.text).toBe(200)
      const file = await getBytes(client, `/exports/${String(id)}/file`)
      expect(file.status).toBe(200)
      expect(file.bytes.toString('utf8')).toBe(sync.text)
      expect(file.headers['content-disposition']).toBe(sync.headers['content-disposition'])
    }
  })

  it('fails a job on bad data with the body the export route answers, and refuses unknown datasets at once', async () => {
    const { client } = await server()
    const body = inlineBody([kilnRun('1'), kilnRun('2', { output: 'not json' })], { format: 'openai_chat_json_schema_jsonl' })
    const sync = await postJson(client, '/datasets/100000000001/export', body)
    expect(sync.status).toBe(422)
    const created = await requestJson(client, 'POST', '/exports', { dataset_id: '100000000001', ...body })
    expect(created.status).toBe(202)
    const failed = await waitForJob(client, created.json.id)
    expect(failed.state).toBe('failed')
    expect(failed.attempts).toBe(1)
    expect(failed.error).toEqual(sync.json())
    const file = await requestJson(client, 'GET', `/exports/${String(created.json.id)}/file`)
    expect(file.status).toBe(409)
    expect(file.json.code).toBe('KEX_EXPORT_NOT_READY')
    // The same POST again: the same failure, not a new try.
    const again = await requestJson(client, 'POST', '/exports', { dataset_id: '100000000001', ...body })
    expect(again.status).toBe(200)
    expect(again.json.state).toBe('failed')

    const unknown = await requestJson(client, 'POST', '/exports', { dataset_id: '999', ...MOUNTED_EXAMPLE })
    expect(unknown.status).toBe(404)
    expect(unknown.json.code).toBe('KEX_DATASET_NOT_FOUND')
    const split = await requestJson(client, 'POST', '/exports', { dataset_id: DATASET, ...MOUNTED_EXAMPLE, split_name: 'Train' })
    expect(split.status).toBe(404)
    expect(split.json.code).toBe('KEX_SPLIT_NOT_FOUND')
    const missing = await requestJson(client, 'GET', '/exports/ex_00000000000000000000000000000000')
    expect(missing.status).toBe(404)
    expect(missing.json.code).toBe('KEX_EXPORT_JOB_NOT_FOUND')
  })

  it('gives a mounted dataset a new job when a run file changes, and fails a queued job whose data changed before it ran', async () => {
    const project = await makeKilnProject()
    for (const id of ['1', '2']) await project.writeRun(id)
    await project.writeSplit('300000000001', { train: ['1', '2'] })
    const exportsDir = await tempExportsDir()
    const config = { ...loadConfig({}), exportsDir }
    const mounted = new KilnProjects(project.root)
    const jobs = await openExportJobs(config, { catalog: mounted, store: slowStore(new LocalResultStore(exportsDir), 300) })
    const { client } = await startServer(config, { catalog: mounted, jobs })
    const body = { dataset_id: '300000000001', split_name: 'train', format: 'openai_chat_jsonl', system_message: '' }
    // A slow job holds the one slot (EXPORT_JOB_CONCURRENCY=1), so the next one waits in the queue.
    const blocker = await requestJson(client, 'POST', '/exports', { ...body, system_message: 'first' })
    const waiting = await requestJson(client, 'POST', '/exports', body)
    expect(waiting.json.state).toBe('queued')
    expect((await requestJson(client, 'POST', '/exports', body)).json.id).toBe(waiting.json.id)
    await project.writeRun('2', { output: 'rewritten' })
    const changed = await requestJson(client, 'POST', '/exports', body)
    expect(changed.json.id).not.toBe(waiting.json.id)
    const failed = await waitForJob(client, waiting.json.id)
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatchObject({ statusCode: 409, code: 'KEX_SOURCE_CHANGED' })
    expect((await waitForJob(client, changed.json.id)).state).toBe('done')
    expect((await waitForJob(client, blocker.json.id)).state).toBe('done')
  })

  it('needs the bearer token on every job route when API_TOKEN is set', async () => {
    const exportsDir = await tempExportsDir()
    const { client } = await startServer({ ...loadConfig({}), exportsDir, apiToken: 'a-token-of-16-chars!' }, { catalog })
    for (const [method, path] of [['POST', '/exports'], ['GET', '/exports/ex_1'], ['GET', '/exports/ex_1/file'], ['DELETE', '/exports/ex_1']] as const) {
      const answer = await requestJson(client, method, path, method === 'POST' ? { dataset_id: DATASET, ...MOUNTED_EXAMPLE } : undefined)
      expect(answer.status, `${method} ${path}`).toBe(401)
    }
  })

  it('cancels a running job, deletes a finished one, and runs a cancelled one again when it is posted again', async () => {
    const { client, exportsDir } = await server({ slowMs: 100 })
    const runs = Array.from({ length: 40 }, (_, i) => kilnRun(String(i + 1)))
    const body = inlineBody(runs, { dataset_id: '100000000001' })
    const created = await requestJson(client, 'POST', '/exports', body)
    await waitForJob(client, created.json.id, (job) => job.state === 'writing' && job.progress.bytes_written > 0)
    const cancelled = await requestJson(client, 'DELETE', `/exports/${String(created.json.id)}`)
    expect(cancelled.status).toBe(200)
    expect(cancelled.json.state).toBe('cancelled')
    expect((await readdir(exportsDir)).filter((name) => name.includes(created.json.id))).toEqual([])

    const again = await requestJson(client, 'POST', '/exports', body)
    expect(again.status).toBe(202)
    expect(again.json.id).toBe(created.json.id)
    const done = await waitForJob(client, created.json.id)
    expect(done.state).toBe('done')
    const deleted = await requestJson(client, 'DELETE', `/exports/${String(created.json.id)}`)
    expect(deleted.status).toBe(204)
    expect((await requestJson(client, 'GET', `/exports/${String(created.json.id)}`)).status).toBe(404)
    expect(await readdir(exportsDir)).toEqual([])
  })
})
