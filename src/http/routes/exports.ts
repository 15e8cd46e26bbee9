import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type FastifyReply } from 'fastify'
import { create as contentDisposition } from 'content-disposition'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { ExportNotReadyError, RangeNotSatisfiableError } from '../../errors.js'
import { type ExportJobView, type ExportJobs } from '../../jobs/index.js'
import { LINE_COUNT_HEADER } from '../../jsonl/trailers.js'
import { byteRange, etagMatches } from '../byte-range.js'
import { JSONL_CONTENT_TYPE } from '../jsonl-reply.js'
import { AMBIGUOUS_DESCRIPTION, errorExample, errorResponse } from '../schemas/error-response.js'
import { EXPORT_SUCCESS_EXAMPLE, type FormatName } from '../schemas/export-request.js'
import { ExportJobParamsSchema, ExportJobSchema, createExportRequestSchema, type ExportJobBody } from '../schemas/exports.js'

/** Options of the export job routes. */
export interface ExportRoutesOptions {
  readonly jobs: ExportJobs
  readonly formats: readonly FormatName[]
  /** EXPORTS_TTL, for `expires_at`. */
  readonly ttlMs: number
}

const NOT_FOUND = errorResponse('No such job: never created, deleted, or its result expired (EXPORTS_TTL).',
  errorExample(404, 'Not Found', 'KEX_EXPORT_JOB_NOT_FOUND', 'Export job ex_4f1d2c3b4a5968778695a4b3c2d1e0f1 not found: it never existed, was deleted, or its result expired (EXPORTS_TTL); POST /exports again'))
const UNAVAILABLE = errorResponse('The job queue (Redis) does not answer (KEX_JOB_QUEUE_UNAVAILABLE), or the service is under pressure or shutting down: retry after Retry-After seconds.')

/**
 * Export jobs: `POST /exports` queues the export route's work, `GET /exports/{id}` follows it,
 * `GET /exports/{id}/file` downloads the result (Content-Length, ETag, Range), `DELETE` cancels or
 * deletes. For exports too long for a proxy's idle timeout, results kept in a store, and work
 * spread over several machines (src/jobs/).
 */
const exportRoutes: FastifyPluginAsyncTypebox<ExportRoutesOptions> = async (app, options) => {
  const { jobs, ttlMs } = options

  const body = (view: ExportJobView): ExportJobBody => {
    const self = `/exports/${view.id}`
    const { result } = view
    return {
      id: view.id,
      state: view.state,
      dataset_id: view.dataset_id,
      split_name: view.split_name,
      format: view.format,
      created_at: view.created_at,
      attempts: view.attempts,
      progress: view.progress,
      ...(view.error === undefined ? {} : { error: view.error }),
      ...(result === undefined
        ? {}
        : {
            result: {
              file_name: result.manifest.file_name,
              lines: result.manifest.lines,
              bytes: result.manifest.bytes,
              sha256: result.manifest.sha256,
              location: result.location,
              created_at: result.manifest.created_at,
              expires_at: new Date(Date.parse(result.manifest.created_at) + ttlMs).toISOString(),
              data_strategy: result.manifest.data_strategy,
              source_digest: result.manifest.source_digest,
              service_version: result.manifest.service_version
            }
          }),
      links: { self, file: `${self}/file` }
    }
  }

  app.post('/exports', {
    schema: {
      operationId: 'createExport',
      summary: 'Start an export job',
      description: 'Queues the export POST /datasets/{id}/export would stream, to be written to the result store. The job id is a digest of the request and of its ' +
        'data\'s content: the same request over the same data answers the same job (a retried POST never does the work twice), 202 while it is queued or running, ' +
        '200 once it is done or failed (a cancelled job, or one that failed on I/O, is started again). What the export route refuses at once (an unknown dataset or split, ' +
        'half an inline body) is refused here the same way; data errors found while checking the runs end the job as `failed`, with the route\'s 422 body as `error`.',
      tags: ['exports'],
      body: createExportRequestSchema(options.formats),
      response: {
        200: { ...ExportJobSchema, description: 'The job already exists and is finished (done or failed).' },
        202: { ...ExportJobSchema, description: 'The job is queued or running (new, or the same request sent before). Location: its URL.' },
        400: errorResponse('Invalid request: schema violation, malformed JSON, or a dataset id mismatch.'),
        404: errorResponse('Unknown dataset split, or unknown split name.'),
        409: errorResponse(AMBIGUOUS_DESCRIPTION),
        413: errorResponse('Request body over BODY_LIMIT.'),
        415: errorResponse('Content-Type is not application/json.'),
        422: errorResponse('A file the dataset split needs cannot be used (KEX_KILN_FILE_*).'),
        503: UNAVAILABLE
      }
    }
  }, async (request, reply) => {
    const { view, created } = await jobs.create(request.body)
    const finished = !created && (view.state === 'done' || view.state === 'failed')
    request.log.info({ job: view.id, dataset: view.dataset_id, state: view.state, created }, created ? 'export job created' : 'export job found')
    return reply.code(finished ? 200 : 202).header('location', `/exports/${view.id}`).send(body(view))
  })

  app.get('/exports/:id', {
    schema: {
      operationId: 'getExport',
      summary: 'Follow an export job',
      description: 'Its state and progress (runs checked, lines and bytes written); a failed job\'s error body, a done job\'s file: lines, SHA-256, bytes, file name, location.',
      tags: ['exports'],
      params: ExportJobParamsSchema,
      response: { 200: ExportJobSchema, 400: errorResponse('Invalid job id.'), 404: NOT_FOUND, 503: UNAVAILABLE }
    }
  }, async (request) => body(await jobs.get(request.params.id)))

  app.get('/exports/:id/file', {
    // Bytes as stored: Content-Length, ETag and ranges are of these bytes, never of a compressed copy.
    compress: false,
    schema: {
      operationId: 'downloadExport',
      summary: 'Download an export job\'s JSONL',
      description: 'The JSONL file, with the export route\'s Content-Disposition and X-Export-Line-Count, plus Content-Length and ETag (the quoted SHA-256). ' +
        '`Range: bytes=N-` resumes a broken download (206 with Content-Range; 416 past the end; If-Range honoured); `If-None-Match` with the ETag answers 304.',
      tags: ['exports'],
      params: ExportJobParamsSchema,
      response: {
        200: {
          description: 'The whole file.',
          headers: {
            'content-disposition': Type.String({ description: 'attachment with Kiln\'s file name' }),
            'x-export-line-count': Type.String({ description: 'Number of lines in the file' }),
            etag: Type.String({ description: 'The quoted hex SHA-256 of the file' }),
            'content-length': Type.String({ description: 'The file\'s size in bytes' })
          },
          content: { 'application/jsonl': { schema: Type.String({ description: 'JSONL' }), example: EXPORT_SUCCESS_EXAMPLE } }
        },
        206: {
          description: 'The bytes the Range asked for (Content-Range says which).',
          headers: { 'content-range': Type.String({ description: 'bytes first-last/size' }) },
          content: { 'application/jsonl': { schema: Type.String({ description: 'Part of the JSONL' }) } }
        },
        304: { description: 'Not modified: If-None-Match named the ETag.', type: 'null' },
        400: errorResponse('Invalid job id.'),
        404: NOT_FOUND,
        409: errorResponse('The job is not done yet (KEX_EXPORT_NOT_READY; the message says its state), or it failed or was cancelled.',
          errorExample(409, 'Conflict', 'KEX_EXPORT_NOT_READY', 'Export job ex_4f1d2c3b4a5968778695a4b3c2d1e0f1 is writing: its file can be downloaded once it is done (GET /exports/{id} says when)')),
        416: errorResponse('The Range starts past the end of the file (KEX_RANGE_NOT_SATISFIABLE); Content-Range: bytes */size.'),
        503: UNAVAILABLE
      }
    }
  }, async (request, typedReply) => {
    // The body is a stream of the stored bytes, which the typed reply (JSON schemas) does not describe.
    const reply: FastifyReply = typedReply
    const view = await jobs.get(request.params.id)
    const { result } = view
    if (view.state !== 'done' || result === undefined) throw new ExportNotReadyError(view.id, view.state)
    const { manifest } = result
    const etag = `"${manifest.sha256}"`
    reply.header('etag', etag)
    reply.header('accept-ranges', 'bytes')
    reply.header('cache-control', 'private, no-cache')
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send()
    // If-Range: resume only when the file is still the one the client has part of.
    const ifRange = request.headers['if-range']
    const range = ifRange !== undefined && !etagMatches(ifRange, etag) ? { kind: 'whole' as const } : byteRange(request.headers.range, manifest.bytes)
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${manifest.bytes}`)
      throw new RangeNotSatisfiableError(String(request.headers.range).slice(0, 100), manifest.bytes)
    }
    reply.header('content-type', JSONL_CONTENT_TYPE)
    reply.header('content-disposition', contentDisposition(manifest.file_name, { type: 'attachment' }))
    reply.header(LINE_COUNT_HEADER, String(manifest.lines))
    if (range.kind === 'partial') {
      reply.code(206)
      reply.header('content-range', `bytes ${range.start}-${range.end}/${manifest.bytes}`)
      reply.header('content-length', String(range.end - range.start + 1))
      return reply.send(await jobs.store.read(view.id, { start: range.start, end: range.end }))
    }
    reply.header('content-length', String(manifest.bytes))
    // An empty file: no stream to read (a zero-length range read would be refused by some stores).
    if (manifest.bytes === 0) return reply.send('')
    return reply.send(await jobs.store.read(view.id))
  })

  app.delete('/exports/:id', {
    schema: {
      operationId: 'deleteExport',
      summary: 'Cancel an export job, or delete its result',
      description: 'A queued or running job is cancelled (200, state `cancelled`; its partial output is dropped). A finished job is forgotten and its result ' +
        'deleted (204). POST the same request again to start over.',
      tags: ['exports'],
      params: ExportJobParamsSchema,
      response: {
        200: { ...ExportJobSchema, description: 'The job was cancelled.' },
        204: { description: 'The job and its result were deleted.', type: 'null' },
        400: errorResponse('Invalid job id.'),
        404: NOT_FOUND,
        503: UNAVAILABLE
      }
    }
  }, async (request, reply) => {
    const { view } = await jobs.delete(request.params.id)
    request.log.info({ job: request.params.id, state: view?.state ?? 'deleted' }, view === undefined ? 'export job deleted' : 'export job cancelled')
    if (view === undefined) return reply.code(204).send(null)
    return reply.code(200).send(body(view))
  })
}

// Encapsulated (the routes' hooks and schemas stay inside), with a name.
export default fp(exportRoutes, { name: 'exports-routes', encapsulate: true })
