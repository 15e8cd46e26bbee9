import { Readable } from 'node:stream'
import { create as contentDisposition } from 'content-disposition'
import { type FastifyReply } from 'fastify'
import { type PreparedExport } from '../export/prepare-export.js'

/** The media type of every export (one JSON object per line). */
export const JSONL_CONTENT_TYPE = 'application/jsonl; charset=utf-8'

/**
 * Send a checked export as a chunked JSONL download. The body is pulled from the export's async
 * iterator only as fast as the socket drains (Readable.from + Fastify's pipe give backpressure).
 * A failure after the headers destroys the stream, and Fastify then cuts the connection, so the
 * client never sees a clean end of a truncated file.
 */
export function sendJsonl (reply: FastifyReply, prepared: PreparedExport): FastifyReply {
  reply.header('content-type', JSONL_CONTENT_TYPE)
  // RFC 6266: an ASCII fallback `filename` plus `filename*` (UTF-8) when the name needs it.
  reply.header('content-disposition', contentDisposition(prepared.fileName, { type: 'attachment' }))
  reply.header('x-export-line-count', String(prepared.lineCount))
  return reply.send(Readable.from(prepared.chunks, { objectMode: false, highWaterMark: 64 * 1024 }))
}
