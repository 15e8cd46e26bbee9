import { createHash } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/kiln-project.js'
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

  it('still cuts the connection when a compressed export fails after the first byte', async () => {
    const project = await makeKilnProject()
    for (const id of ['1', '2', '3']) await project.writeRun(id, { output: 'x'.repeat(3000) })
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    const catalog = hookedCatalog(new KilnProjects(project.root), async (pass) => {
      if (pass === 2) await unlink(project.runFile('3'))
    })
    const { client } = await startServer({}, { catalog, exportTuning: { bufferChars: 1, chunkChars: 1 } })
    const response = await client.request({
      method: 'POST',
      path: '/datasets/900000000001/export',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' })
    })
    expect(response.statusCode).toBe(200)
    await expect((async () => { for await (const part of response.body) expect(part).toBeDefined() })()).rejects.toThrow()
  })
})
