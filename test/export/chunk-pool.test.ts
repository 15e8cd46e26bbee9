import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import compress from '@fastify/compress'
import Fastify, { type FastifyInstance } from 'fastify'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ChunkPool } from '../../src/export/chunk-pool.js'
import { prepareExport, type ExportParams, type PrepareOptions, type PreparedExport } from '../../src/export/prepare-export.js'
import { SpoolBudget } from '../../src/export/spool.js'
import { type TaskRunData } from '../../src/format/index.js'
import { sendJsonl } from '../../src/http/jsonl-reply.js'
import { inlineSource } from '../../src/source/index.js'
import { kilnRun } from '../helpers/kiln-data.js'

/*
 * The export's reusable chunk buffers (src/export/chunk-pool.ts): a buffer goes back to work only
 * when nothing can read it any more. The HTTP tests stream a real export (spooled, 64 KiB chunks)
 * through a real server to a real undici client, fast and slow, and compare every byte with the
 * export read straight from prepareExport: a buffer reused too early shows up as corrupted lines.
 */

describe('ChunkPool', () => {
  it('reuses a buffer given back, and only buffers of its own', () => {
    const pool = new ChunkPool(1024)
    const a = pool.take()
    expect(a.length).toBe(1024)
    expect(pool.allocated).toBe(1)
    pool.give(Buffer.alloc(1024))
    pool.give(new Uint8Array(1024))
    expect(pool.take().buffer).not.toBe(a.buffer)
    pool.give(a.subarray(0, 10))
    const again = pool.take()
    expect(again.buffer).toBe(a.buffer)
    expect(again.length).toBe(1024)
    expect(pool.reused).toBe(1)
  })

  it('never lists a buffer twice, so no two chunks share one', () => {
    const pool = new ChunkPool(64)
    const a = pool.take()
    pool.give(a)
    pool.give(a)
    expect(pool.take().buffer).toBe(a.buffer)
    expect(pool.take().buffer).not.toBe(a.buffer)
  })

  it('frees a handed-on chunk only once the consumer has settled past its last byte', () => {
    const pool = new ChunkPool(64)
    const a = pool.take()
    const b = pool.take()
    pool.handedOn(a.subarray(0, 50), 50)
    pool.handedOn(b.subarray(0, 60), 110)
    pool.settledUpTo(49)
    expect(pool.settled).toBe(0)
    pool.settledUpTo(109)
    expect(pool.settled).toBe(1)
    expect(pool.take().buffer).toBe(a.buffer)
    expect(pool.take().buffer).not.toBe(b.buffer)
    pool.settledUpTo(110)
    expect(pool.take().buffer).toBe(b.buffer)
  })

  it('keeps at most maxFree spares, and forgets (never reuses) chunks a consumer never settles', () => {
    const pool = new ChunkPool(16, 2)
    const taken = [pool.take(), pool.take(), pool.take()]
    for (const chunk of taken) pool.give(chunk)
    expect([pool.take(), pool.take()].map((c) => c.buffer)).toEqual([taken[1]?.buffer, taken[0]?.buffer].reverse())
    expect(pool.allocated).toBe(3)
    pool.take()
    expect(pool.allocated).toBe(4)

    const stuck = new ChunkPool(16)
    const first = stuck.take()
    stuck.handedOn(first, 16)
    for (let i = 1; i <= 100; i++) stuck.handedOn(stuck.take(), 16 * (i + 1))
    // The first is no longer tracked: settling past it frees only what is still listed.
    stuck.settledUpTo(16 * 101)
    expect(stuck.settled).toBe(64)
    const reusedBuffers = Array.from({ length: 16 }, () => stuck.take().buffer)
    expect(reusedBuffers).not.toContain(first.buffer)
  })
})

const RUNS = 2500
/** About 4 KB a line: 2,500 runs make about 10 MB, far more than the socket buffers hold. */
const runs = Array.from({ length: RUNS }, (_, i) => kilnRun(String(500000000000 + i), {
  output: `${i} ${'é'.repeat(300)}${String(i % 97).repeat(40)} ${'x'.repeat(3000 + (i % 500))}`
}) as unknown as TaskRunData)
const source = inlineSource({ id: '1', name: 'Pool', split_contents: { train: runs.map((r) => r.id) } }, runs)
const PARAMS: ExportParams = { splitName: 'train', format: 'openai_chat_jsonl', dataStrategy: 'final_only', systemMessage: 'Be brief.', thinkingInstructions: null }

async function tuning (): Promise<PrepareOptions> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-pool-test-'))
  onTestFinished(async () => {
    expect(await readdir(dir)).toEqual([])
    await rm(dir, { recursive: true, force: true })
  })
  return { bufferBytes: 256 * 1024, chunkBytes: 64 * 1024, spool: { dir, budget: new SpoolBudget(1 << 30) } }
}

/** The export's bytes, each chunk copied the moment it is made (no consumer reports anything). */
async function expectedBytes (): Promise<Buffer> {
  const prepared = await prepareExport(source, PARAMS, await tuning())
  const copies: Buffer[] = []
  for await (const chunk of prepared.chunks) copies.push(Buffer.from(chunk))
  return Buffer.concat(copies)
}

/** A real server whose one route sends the export with sendJsonl; `exports` holds each prepared export. */
async function server (withCompression: boolean): Promise<{ client: Client, exports: PreparedExport[] }> {
  const options = await tuning()
  const app: FastifyInstance = Fastify()
  if (withCompression) await app.register(compress, { threshold: 0, customTypes: /^application\/jsonl/ })
  const exports: PreparedExport[] = []
  app.get('/export', async (_request, reply) => {
    const prepared = await prepareExport(source, PARAMS, options)
    exports.push(prepared)
    return sendJsonl(reply, prepared)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const client = new Client(`http://127.0.0.1:${address.port}`)
  onTestFinished(async () => {
    await client.destroy()
    await app.close()
  })
  return { client, exports }
}

/** Read the body, pausing `pauseMs` after each piece so the server's socket fills up. */
async function readBody (body: AsyncIterable<Buffer>, pauseMs: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of body) {
    parts.push(part)
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return Buffer.concat(parts)
}

describe('an export streamed through a real server reuses its written chunks, and sends the same bytes', () => {
  it.each([
    ['a fast client', 0],
    ['a slow client (the socket backs up)', 5]
  ])('%s', async (_name, pauseMs) => {
    const expected = await expectedBytes()
    expect(expected.length).toBeGreaterThan(8 * 1024 * 1024)
    const { client, exports } = await server(false)
    const response = await client.request({ method: 'GET', path: '/export' })
    expect(response.statusCode).toBe(200)
    const bytes = await readBody(response.body, pauseMs)
    expect(bytes.length).toBe(expected.length)
    expect(bytes.equals(expected)).toBe(true)
    const pool = exports[0]?.pool
    // Buffers came back through the reply's reports, and the export ran on far fewer buffers than chunks.
    expect(pool?.settled).toBeGreaterThan(10)
    expect(pool?.allocated).toBeLessThan(expected.length / (64 * 1024) / 2)
  })

  it('through a compressor (queues it cannot see) no sent chunk is reused; the bytes are the same', async () => {
    const expected = await expectedBytes()
    const { client, exports } = await server(true)
    const response = await client.request({ method: 'GET', path: '/export', headers: { 'accept-encoding': 'gzip' } })
    expect(response.headers['content-encoding']).toBe('gzip')
    const { gunzipSync } = await import('node:zlib')
    const bytes = gunzipSync(await readBody(response.body, 1))
    expect(bytes.equals(expected)).toBe(true)
    expect(exports[0]?.pool?.settled).toBe(0)
  })
})
