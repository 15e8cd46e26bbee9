import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { apiError, ExportIntegrityError } from './errors.js'
import { header } from './headers.js'
import { type Transport } from './transport.js'
import type { CallOptions, ExportJob, ExportJobFileResult } from './types.js'

/*
 * Download a done export job's file to `path`, resuming a broken download: the bytes go to
 * `<path>.partial`; when that file is there from an earlier try, only the rest is asked for
 * (`Range: bytes=<size>-` with `If-Range: <ETag>`, so a result that changed is sent whole). The
 * whole file's SHA-256 is checked against the job's before it is renamed to `path`.
 */

async function sha256Of (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export async function downloadJobFile (transport: Transport, job: ExportJob, path: string, options: CallOptions): Promise<ExportJobFileResult> {
  const result = job.result
  if (job.state !== 'done' || result === undefined) throw new Error(`Export job ${job.id} is ${job.state}, not done: wait for it first (waitForExport)`)
  const partial = `${path}.partial`
  const have = await stat(partial).then((s) => s.size, () => 0)
  const resume = have > 0 && have < result.bytes
  const etag = `"${result.sha256}"`
  const response = await transport.send('GET', `exports/${encodeURIComponent(job.id)}/file`, undefined, options, 'application/jsonl, application/json', undefined,
    resume ? { range: `bytes=${have}-`, 'if-range': etag } : {})
  if (response.statusCode !== 200 && response.statusCode !== 206) throw await apiError(response)
  const appending = response.statusCode === 206
  if (appending && header(response.headers, 'content-range')?.startsWith(`bytes ${have}-`) !== true) {
    response.body.destroy()
    throw new ExportIntegrityError('interrupted', `Asked for the bytes from ${have}, got ${header(response.headers, 'content-range') ?? 'no Content-Range'}`)
  }
  const handle = await open(partial, appending ? 'a' : 'w')
  try {
    for await (const chunk of response.body) {
      const bytes = chunk as Buffer
      for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset)).bytesWritten
    }
    await handle.sync()
  } catch (err) {
    // The bytes that arrived stay in the partial file: the next call resumes after them.
    throw new ExportIntegrityError('interrupted', `The download of export job ${job.id} broke off; call downloadExport again to resume`, { cause: err })
  } finally {
    await handle.close()
  }
  const sha256 = await sha256Of(partial)
  if (sha256 !== result.sha256) {
    await rm(partial, { force: true })
    throw new ExportIntegrityError('sha256', `The downloaded file's SHA-256 is ${sha256}, export job ${job.id}'s is ${result.sha256}`)
  }
  await rename(partial, path)
  return { path, bytes: result.bytes, lines: result.lines, sha256, fileName: result.file_name, resumedFrom: appending ? have : 0 }
}
