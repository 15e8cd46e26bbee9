import { createHash } from 'node:crypto'
import { parse as parseContentDisposition } from 'content-disposition'
import type { Dispatcher } from 'undici'
import { countLines } from '../jsonl/count-lines.js'
import { LINE_COUNT_HEADER, LINES_TRAILER, SHA256_TRAILER, SKIPPED_RUN_COUNT_HEADER } from '../jsonl/trailers.js'
import { ExportIntegrityError } from './errors.js'
import { header } from './headers.js'
import type { ExportDownload, ExportSummary } from './types.js'

/** Split verified chunks into lines on `\n` only, decoding strict UTF-8 (a BOM is kept as data). */
async function * splitLines (chunks: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true })
    } catch (err) {
      throw new ExportIntegrityError('invalid-utf8', 'The export is not valid UTF-8', { cause: err })
    }
  }
  let rest = ''
  for await (const chunk of chunks) {
    const lines = (rest + decode(chunk)).split('\n')
    rest = lines.pop() ?? ''
    yield * lines
  }
  rest += decode()
  // Unreachable after verification (an incomplete last line is refused there), kept for safety.
  if (rest !== '') throw new ExportIntegrityError('incomplete-line', 'The export ends in the middle of a line')
}

/** Wrap a 200 export response: the body is hashed and counted as it is read, and checked at its end. */
export function download (response: Dispatcher.ResponseData): ExportDownload {
  const disposition = header(response.headers, 'content-disposition')
  let fileName: string | undefined
  if (disposition !== undefined) {
    try {
      fileName = parseContentDisposition(disposition).parameters.filename
    } catch {
      fileName = undefined
    }
  }
  const announced = header(response.headers, LINE_COUNT_HEADER)
  const announcedLines = announced !== undefined && /^\d+$/.test(announced) ? Number(announced) : undefined
  const skipped = header(response.headers, SKIPPED_RUN_COUNT_HEADER)
  const skippedRuns = skipped !== undefined && /^\d+$/.test(skipped) ? Number(skipped) : undefined
  let summary: ExportSummary | undefined
  let consumed = false

  async function * verified (): AsyncIterable<Uint8Array> {
    if (consumed) throw new Error('An export body can be read only once')
    consumed = true
    const hash = createHash('sha256')
    let lines = 0
    let bytes = 0
    let last = 10
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    let finished = false
    try {
      while (true) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await iterator.next()
        } catch (err) {
          throw new ExportIntegrityError('interrupted', `The export was cut after ${bytes} bytes (${lines} lines): the connection closed before the end of the body`, { cause: err })
        }
        if (next.done === true) break
        const chunk = next.value
        hash.update(chunk)
        lines += countLines(chunk)
        bytes += chunk.length
        if (chunk.length > 0) last = chunk[chunk.length - 1] ?? last
        yield chunk
      }
      finished = true
    } finally {
      // The consumer stopped early (or failed): close the connection rather than read the rest.
      if (!finished) response.body.destroy()
    }
    const sha256 = hash.digest('hex')
    const trailers = response.trailers as Record<string, string | undefined>
    const sentLines = trailers[LINES_TRAILER]
    const sentSha = trailers[SHA256_TRAILER]
    if (sentSha !== undefined && sentSha.toLowerCase() !== sha256) {
      throw new ExportIntegrityError('sha256', `The export's SHA-256 is ${sha256}, the server sent ${sentSha}`)
    }
    const expectedLines = sentLines ?? (announcedLines === undefined ? undefined : String(announcedLines))
    if (expectedLines !== undefined && expectedLines !== String(lines)) {
      throw new ExportIntegrityError('line-count', `The export has ${lines} lines, the server ${sentLines === undefined ? 'announced' : 'sent'} ${expectedLines}`)
    }
    if (last !== 10) throw new ExportIntegrityError('incomplete-line', 'The export ends in the middle of a line')
    summary = { lines, bytes, sha256, verifiedByTrailers: sentLines !== undefined && sentSha !== undefined }
  }

  const chunks = verified()
  return {
    fileName,
    announcedLines,
    skippedRuns,
    requestId: header(response.headers, 'x-request-id'),
    chunks,
    lines: () => splitLines(chunks),
    get summary () { return summary },
    cancel: () => { response.body.destroy() }
  }
}
