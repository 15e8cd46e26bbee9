import { createHash } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { RunFileReader } from '../../src/source/mounted/run-file-reader.js'
import { hookedCatalog } from '../helpers/faulty-catalog.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { startServer } from '../helpers/server.js'

const PATH = '/datasets/100000000001/export'
// Hex digests compress only about 2:1, so even brotli's output spans many chunks.
const noise = (i: number): string => Array.from({ length: 4 }, (_, k) => createHash('sha256').update(`${i}/${k}`).digest('hex')).join('')
const runs = Array.from({ length: 2000 }, (_, i) => kilnRun(String(i), { output: `Réponse numéro ${i} : ${'merci '.repeat(40)}😀 ${noise(i)}` }))
const BODY = JSON.stringify(inlineBody(runs))

describe('compression', () => {
  for (const [encoding, decode] of [['gzip', gunzipSync], ['br', brotliDecompressSync]] as const) {
    it(`streams ${encoding} when asked, decoding to the same bytes, with trailers over the decoded body`, async () => {
      const { client } = await startServer()
      const plain = await client.request({ method: 'POST', path: PATH, headers: { 'content-type': 'application/json' }, body: BODY })
      const plainBytes = Buffer.from(await plain.body.arrayBuffer())
      expect(plain.headers['content-encoding']).toBeUndefined()

      const compressed = await client.request({
        method: 'POST', path: PATH, headers: { 'content-type': 'application/json', 'accept-encoding': encoding }, body: BODY
      })
      expect(compressed.statusCode).toBe(200)
      expect(compressed.headers['content-encoding']).toBe(encoding)
      expect(compressed.headers['transfer-encoding']).toBe('chunked')
      const parts: Buffer[] = []
      for await (const part of compressed.body) parts.push(part as Buffer)
      expect(parts.length).toBeGreaterThan(1)
      const wire = Buffer.concat(parts)
      expect(wire.length).toBeLessThan(plainBytes.length / 2)
      const decoded = decode(wire)
      // Only the random HF ids could differ, and this format has none: identical bytes.
      expect(decoded.equals(plainBytes)).toBe(true)
      expect(compressed.trailers['x-export-lines']).toBe('2000')
      expect(compressed.trailers['x-export-sha256']).toBe(createHash('sha256').update(decoded).digest('hex'))
    })
  }

  it('accepts a gzip-encoded request body', async () => {
    const { client } = await startServer()
    const response = await client.request({
      method: 'POST', path: PATH, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(BODY)
    })
    expect(response.statusCode).toBe(200)
    expect((await response.body.text()).split('\n')).toHaveLength(2001)
  })

  it('applies BODY_LIMIT to the inflated size of a gzip-encoded body (no zip bombs)', async () => {
    const { client } = await startServer({ bodyLimit: 2048 })
    const bomb = gzipSync(JSON.stringify(inlineBody([kilnRun('1', { output: 'x'.repeat(100_000) })])))
    expect(bomb.length).toBeLessThan(2048)
    const response = await client.request({
      method: 'POST', path: PATH, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb
    })
    expect(response.statusCode).toBe(413)
    expect(await response.body.json()).toMatchObject({ code: 'KEX_BODY_TOO_LARGE' })
  })

  /** A mounted export of three runs whose run 3 vanishes when the streaming pass starts. */
  async function vanishingRun (atPass2: (unlinkRun3: () => void) => Promise<void> | void, reader?: RunFileReader) {
    const project = await makeKilnProject()
    for (const id of ['1', '2', '3']) await project.writeRun(id, { output: `${noise(Number(id))} ${'x'.repeat(3000)}` })
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    const catalog = hookedCatalog(new KilnProjects(project.root, { reader }), async (pass) => {
      if (pass === 2) await atPass2(() => { unlinkSync(project.runFile('3')) })
    })
    const { client } = await startServer({}, { catalog, exportTuning: { bufferBytes: 1, chunkBytes: 1 } })
    return client.request({
      method: 'POST',
      path: '/datasets/900000000001/export',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' })
    })
  }

  it('still cuts the connection when a compressed export fails after its first byte was sent', async () => {
    let headersArrived = (): void => {}
    const arrived = new Promise<void>((resolve) => { headersArrived = resolve })
    // Run 3 vanishes only once the client holds the 200: bytes are on the wire by then.
    const pending = vanishingRun(async (unlinkRun3) => { await arrived; unlinkRun3() })
    const response = await pending.finally(headersArrived)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-encoding']).toBe('gzip')
    await expect((async () => { for await (const part of response.body) expect(part).toBeDefined() })()).rejects.toThrow()
  })

  it('answers a clean 422, without the export\'s headers, when it fails while the compressor still holds every byte', async () => {
    // Run 3 vanishes at once and is read on the main thread: the failure comes within the same
    // turn of the event loop, before zlib's thread hands back any output.
    const response = await vanishingRun((unlinkRun3) => unlinkRun3(), new RunFileReader({ threads: false }))
    expect(response.statusCode).toBe(422)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    for (const name of ['content-disposition', 'x-export-line-count', 'trailer', 'transfer-encoding', 'content-encoding']) {
      expect(response.headers[name], name).toBeUndefined()
    }
    expect(await response.body.json()).toMatchObject({ code: 'KEX_TASK_RUN_NOT_FOUND', message: 'Task run 3 changed during the export' })
    expect(response.trailers).toEqual({})
  })
})
