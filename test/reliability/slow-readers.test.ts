import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client, type Dispatcher } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type DatasetCatalog } from '../../src/source/types.js'
import { inlineBody, kilnRun, kilnSplit } from '../helpers/kiln-data.js'
import { postJson, startServer, type TestServer } from '../helpers/server.js'

const PATH = '/datasets/100000000001/export'
/** A 40 MB export (200 lines of 200 KB, quick to check): far more than the socket buffers between server and client hold. */
const BIG = JSON.stringify(inlineBody([kilnRun('1', { output: 'z'.repeat(200_000) })], {
  dataset_split: kilnSplit('100000000001', { train: Array.from({ length: 200 }, () => '1') })
}))

/** Start the big export on a connection of its own, and stop reading it after the headers. */
async function stalledExport (server: TestServer): Promise<Dispatcher.ResponseData> {
  const client = new Client(server.origin)
  onTestFinished(async () => { await client.destroy() })
  const response = await client.request({ method: 'POST', path: PATH, headers: { 'content-type': 'application/json' }, body: BIG })
  expect(response.statusCode).toBe(200)
  response.body.pause()
  return response
}

/** Read the rest of a response: whether it ended cleanly, the bytes, and its trailers. */
async function readRest (response: Dispatcher.ResponseData): Promise<{ complete: boolean, body: Buffer, trailers: Record<string, string> }> {
  const chunks: Buffer[] = []
  let complete = true
  try {
    for await (const chunk of response.body) chunks.push(chunk as Buffer)
  } catch {
    complete = false
  }
  return { complete, body: Buffer.concat(chunks), trailers: response.trailers as Record<string, string> }
}

async function until (condition: () => boolean, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries && !condition(); i++) await sleep(100)
  return condition()
}

describe('export slots favour progress', () => {
  it('give a new export the slot of one whose client stopped reading, and cut that stream visibly', async () => {
    const server = await startServer({ maxConcurrentExports: 2, exportMinBytesPerSecond: 1024 * 1024, exportRateWindowMs: 1000 })
    const slow = [await stalledExport(server), await stalledExport(server)]
    expect(server.app.exportSlots.active).toBe(2)

    // Every slot is held: 503 until a stalled export has been measured over a whole window.
    const other = new Client(server.origin)
    onTestFinished(async () => { await other.destroy() })
    let answer = await postJson(other, PATH, inlineBody([kilnRun('1')]))
    for (let i = 0; i < 100 && answer.status === 503; i++) {
      expect(answer.json()).toMatchObject({ code: 'KEX_TOO_MANY_EXPORTS' })
      await sleep(200)
      answer = await postJson(other, PATH, inlineBody([kilnRun('1')]))
    }
    expect(answer.status).toBe(200)
    expect(answer.text.split('\n')).toHaveLength(2)

    // One stalled export lost its slot: cut without the final chunk and trailers. The other,
    // which nobody needed the slot of, still completes when read.
    const rests = await Promise.all(slow.map(readRest))
    const cut = rests.filter((rest) => !rest.complete)
    const whole = rests.filter((rest) => rest.complete)
    expect(cut).toHaveLength(1)
    expect(cut[0]?.trailers['x-export-lines']).toBe(undefined)
    expect(whole).toHaveLength(1)
    expect(whole[0]?.trailers['x-export-lines']).toBe('200')
    expect(whole[0]?.trailers['x-export-sha256']).toBe(createHash('sha256').update(whole[0]?.body ?? '').digest('hex'))
    expect(await until(() => server.app.exportSlots.active === 0)).toBe(true)
  })

  it('cut a stream that runs past EXPORT_DEADLINE_MS, even when no other export waits', async () => {
    const server = await startServer({ exportDeadlineMs: 2000 })
    const slow = await stalledExport(server)
    expect(await until(() => server.app.exportSlots.active === 0)).toBe(true)
    const rest = await readRest(slow)
    expect(rest.complete).toBe(false)
    expect(rest.trailers['x-export-lines']).toBe(undefined)
  })

  it('answer 503 KEX_EXPORT_DEADLINE for an export whose check runs past EXPORT_DEADLINE_MS', async () => {
    // A mounted dataset whose runs take until the export is stopped to read.
    const stuck: DatasetCatalog = {
      list: async () => ({ datasets: [], problems: [] }),
      describe: async () => undefined,
      find: async () => ({
        split: kilnSplit('900000000001', { train: ['1'] }) as never,
        async * runs (_ids, signal) {
          await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }))
        }
      })
    }
    const { client } = await startServer({ exportDeadlineMs: 1000 }, { catalog: stuck })
    const answer = await postJson(client, '/datasets/900000000001/export', { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' })
    expect(answer.status).toBe(503)
    expect(answer.headers['retry-after']).toBe('5')
    expect(answer.headers['content-disposition']).toBe(undefined)
    expect(answer.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'KEX_EXPORT_DEADLINE',
      message: 'The export ran longer than EXPORT_DEADLINE_MS (1000 ms) and was stopped: retry, or ask the operator to raise EXPORT_DEADLINE_MS'
    })
  })
})
