import { createHash } from 'node:crypto'
import { ServerResponse, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { create as contentDisposition } from 'content-disposition'
import { type FastifyReply } from 'fastify'
import { type ChunkPool } from '../export/chunk-pool.js'
import { type PreparedExport } from '../export/prepare-export.js'
import { countLines } from '../jsonl/count-lines.js'
import { LINE_COUNT_HEADER, LINES_TRAILER, SHA256_TRAILER, SKIPPED_RUNS_TRAILER, SKIPPED_RUN_COUNT_HEADER } from '../jsonl/trailers.js'

/** The media type of every export (one JSON object per line). */
export const JSONL_CONTENT_TYPE = 'application/jsonl; charset=utf-8'

/**
 * Send a checked export as a chunked JSONL download. The body is pulled from the export's async
 * iterator only as fast as the socket drains (Readable.from + Fastify's pipe give backpressure).
 * The line count and SHA-256 of what was sent follow in HTTP trailers, so a careful client can
 * verify the file (preference formats add the skipped-run count, as a header and a trailer). A failure after the headers destroys the stream, and Fastify then cuts the
 * connection without the final chunk: the client never sees a clean end of a truncated file.
 *
 * HTTP/1.0 has no chunked framing (RFC 9112 section 6.1), so no trailers: the body ends with the
 * connection, and X-Export-Line-Count is all the client can check. A failure after the first byte
 * then resets the connection (RST), since a clean close would pass for a complete file.
 *
 * `progress` hears of every chunk handed on (the export slots measure a client's pace with it).
 */
export function sendJsonl (reply: FastifyReply, prepared: PreparedExport, progress?: { sent (bytes: number): void }): FastifyReply {
  const hash = createHash('sha256')
  let lines = 0
  const closeDelimited = !speaksChunked(reply.request.raw)
  // The chunks are already UTF-8: the same bytes are hashed, counted and written.
  async function * counted (): AsyncIterable<Buffer> {
    try {
      for await (const bytes of prepared.chunks) {
        hash.update(bytes)
        lines += countLines(bytes)
        progress?.sent(bytes.length)
        handOn?.(bytes)
        yield bytes
      }
    } catch (err) {
      // Before the first byte, the error handler still answers with a JSON error instead.
      if (closeDelimited && reply.raw.headersSent) reply.raw.socket?.resetAndDestroy()
      throw err
    }
  }
  reply.header('content-type', JSONL_CONTENT_TYPE)
  // RFC 6266: an ASCII fallback `filename` plus `filename*` (UTF-8) when the name needs it.
  reply.header('content-disposition', contentDisposition(prepared.fileName, { type: 'attachment' }))
  reply.header(LINE_COUNT_HEADER, String(prepared.lineCount))
  const { skippedRuns } = prepared
  if (skippedRuns !== undefined) reply.header(SKIPPED_RUN_COUNT_HEADER, String(skippedRuns))
  if (closeDelimited) {
    reply.header('connection', 'close')
  } else {
    reply.trailer(LINES_TRAILER, async () => String(lines))
    reply.trailer(SHA256_TRAILER, async () => hash.digest('hex'))
    if (skippedRuns !== undefined) reply.trailer(SKIPPED_RUNS_TRAILER, async () => String(skippedRuns))
    commaSeparateTrailerHeader(reply)
  }
  const body = Readable.from(counted(), { objectMode: false, highWaterMark: 64 * 1024 })
  const handOn = reuseSettledChunks(body, reply.raw, prepared.pool)
  return reply.send(body)
}

/**
 * Lets the export reuse its chunk buffers (export/chunk-pool.ts) when the body is piped straight
 * into the response. Then every byte handed on and not yet out of the process is queued either in
 * the body stream (`readableLength`) or in the response (`writableLength`, which counts a socket
 * write until the kernel has taken it), in order; framing and headers there only make the count
 * larger, never a buffer free too early. Piped anywhere else (a compressor, whose queues we cannot
 * see), nothing is reported and no buffer is reused. Returns what to call on each chunk before it
 * is handed on.
 */
function reuseSettledChunks (body: Readable, response: ServerResponse, pool: ChunkPool | undefined): ((chunk: Buffer) => void) | undefined {
  if (pool === undefined || !(response instanceof ServerResponse)) return undefined
  const destinations: unknown[] = []
  const pipe = body.pipe.bind(body)
  body.pipe = function pipeAndNote (destination, options) {
    destinations.push(destination)
    return pipe(destination, options)
  }
  let handed = 0
  return (chunk) => {
    const straight = destinations.length === 1 && destinations[0] === response
    if (straight) pool.settledUpTo(handed - body.readableLength - response.writableLength)
    handed += chunk.length
    if (straight) pool.handedOn(chunk, handed)
  }
}

/** HTTP/1.1 and later frame bodies in chunks; HTTP/1.0 (and 0.9) clients cannot parse them. */
function speaksChunked (request: IncomingMessage): boolean {
  return request.httpVersionMajor > 1 || (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1)
}

/**
 * Undo what `sendJsonl` set, for an export that failed before its first byte reached the socket
 * (with compression on, the compressor may still hold the first lines). Fastify has already copied
 * the stream's headers onto the raw response; the error answer must not inherit its attachment,
 * line count, trailers, chunked framing or content-encoding (the compress hook decides again).
 */
export function dropJsonlHeaders (reply: FastifyReply): void {
  for (const name of STREAM_HEADERS) {
    reply.removeHeader(name)
    reply.raw.removeHeader(name)
  }
  reply.removeTrailer(LINES_TRAILER)
  reply.removeTrailer(SHA256_TRAILER)
  reply.removeTrailer(SKIPPED_RUNS_TRAILER)
}

const STREAM_HEADERS = ['content-disposition', LINE_COUNT_HEADER, SKIPPED_RUN_COUNT_HEADER, 'trailer', 'transfer-encoding', 'content-encoding', 'content-length', 'vary']

/**
 * Fastify 5 announces trailers as `Trailer: a b`; RFC 9110 (section 6.6.2) lists field names with
 * commas. Rewrite the header on this response only, when Fastify sets it.
 */
function commaSeparateTrailerHeader (reply: FastifyReply): void {
  const raw = reply.raw
  const setHeader = raw.setHeader.bind(raw)
  raw.setHeader = (name, value) => setHeader(name, name.toLowerCase() === 'trailer' && typeof value === 'string' ? value.trim().split(/\s+/).join(', ') : value)
}
