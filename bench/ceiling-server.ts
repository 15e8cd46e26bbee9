/**
 * The loopback ceiling: a trivial Fastify server that streams bytes already built in memory, in
 * 64 KiB chunks, the way kiln-export streams an export (Readable.from + Fastify's pipe). Whatever
 * kiln-export does on top (reading, parsing, formatting) can only make it slower than this.
 *
 * - `POST /load {"file": "<path>"}` loads the bytes to serve (an export captured by the runner).
 * - `POST /stream` answers with those bytes. It accepts any JSON body without parsing it, so an
 *   inline export's upload can be replayed to measure the round-trip ceiling.
 */
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import Fastify from 'fastify'

const CHUNK = 64 * 1024

let chunks: Buffer[] = []
let total = 0

function * body (): Generator<Buffer> {
  yield * chunks
}

const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 * 1024 - 1 })
app.removeContentTypeParser('application/json')
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw, done) => { done(null, raw) })

app.get('/health', async () => ({ status: 'ok' }))

app.post('/load', async (request) => {
  const { file } = JSON.parse((request.body as Buffer).toString('utf8')) as { file: string }
  const bytes = await readFile(file)
  chunks = []
  for (let start = 0; start < bytes.length; start += CHUNK) chunks.push(bytes.subarray(start, start + CHUNK))
  total = bytes.length
  return { bytes: total }
})

app.post('/stream', async (_request, reply) => {
  reply.header('content-type', 'application/jsonl; charset=utf-8')
  return reply.send(Readable.from(body(), { objectMode: false, highWaterMark: CHUNK }))
})

const port = Number(process.env.PORT ?? 0)
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
