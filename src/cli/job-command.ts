import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ExportIntegrityError, KilnExportApiError, KilnExportClient, type CreateExportBody, type ExportJob } from '../client/index.js'
import { parseOrUsage, required } from './args.js'
import { EXPORT_OPTIONS, exportOptionsRequest } from './dataset-options.js'
import { EXIT_INTERRUPTED } from './export-command.js'
import { EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'
import { requestFields } from './request-fields.js'

const OPTIONS = {
  ...EXPORT_OPTIONS,
  server: { type: 'string' },
  token: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'no-download': { type: 'boolean' },
  'cancel-on-interrupt': { type: 'boolean' },
  interval: { type: 'string' }
} as const

/** The server's origin from --server or KILN_EXPORT_URL: an http(s) URL. */
function serverUrl (value: string | undefined): URL {
  if (value === undefined || value === '') throw new UsageError('missing --server (or KILN_EXPORT_URL): the kiln-export server, e.g. http://127.0.0.1:3000', 'job')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--server must be an http(s) URL, not '${value}'`, 'job')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server must be an http(s) URL, not '${value}'`, 'job')
  return url
}

/** Where the download goes: a file whose folder exists. */
async function outputPath (path: string): Promise<string> {
  if (path === '') throw new UsageError('--output needs a file name', 'job')
  const absolute = resolve(path)
  const folder = await stat(dirname(absolute)).then((s) => s.isDirectory(), () => false)
  if (!folder) throw new UsageError(`--output: folder ${dirname(path)} does not exist`, 'job')
  const isDirectory = await stat(absolute).then((s) => s.isDirectory(), () => false)
  if (isDirectory) throw new UsageError(`--output ${path} is a folder`, 'job')
  return absolute
}

/** A connection failure (no answer at all): its code, e.g. ECONNREFUSED, or undefined for another error. */
function connectionFailure (err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('E') || code.startsWith('UND_ERR_'))) return code
  }
  return undefined
}

/** Print an error answer as `export` prints a refused export: the server's message, the code, every run id. */
function reportApiError (io: CliIo, err: KilnExportApiError, server: string): number {
  say(io, err.status === 401 ? `${err.message} (the server ${server} wants --token or KILN_EXPORT_TOKEN)` : err.message)
  io.stderr.write(`  code: ${err.code}\n`)
  if (err.runIds.length > 0) io.stderr.write(`  run ids (${err.runIds.length}): ${err.runIds.join(', ')}\n`)
  if (err.problems.some((p) => p.message !== err.message)) {
    for (const problem of err.problems) io.stderr.write(`  - run ${problem.run_id}: ${problem.message}\n`)
  }
  if (err.requestId !== undefined) io.stderr.write(`  request id: ${err.requestId}\n`)
  // As `export`: a request-level refusal (400) is a usage problem; a bad token too.
  return err.status === 400 || err.status === 401 || err.status === 403 ? EXIT_USAGE : EXIT_DATA_ERROR
}

/** One line of progress: the state and its counts. */
function progressLine (job: ExportJob): string {
  const p = job.progress
  const parts: string[] = [job.state]
  if (p.runs_total > 0) parts.push(`${p.runs_checked.toLocaleString('en-US')} / ${p.runs_total.toLocaleString('en-US')} runs checked`)
  if (job.state === 'writing' || job.state === 'done') parts.push(`${p.lines_written.toLocaleString('en-US')} lines, ${p.bytes_written.toLocaleString('en-US')} bytes written`)
  return `kiln-export: job ${job.id}: ${parts.join(', ')}`
}

/**
 * `kiln-export job`: run an export job on a running server (POST /exports) through the typed
 * client, wait for it (progress on a terminal), then download the file (resumable, SHA-256
 * checked). The same request over the same data is the same job, so running the command again
 * after an interruption waits for the job it left running and resumes the download.
 */
export async function jobCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('job', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const server = serverUrl(values.server ?? io.env.KILN_EXPORT_URL)
  const request = await exportOptionsRequest('job', values)
  const splitName = required('job', 'split', values.split)
  const { systemMessage } = request
  if (systemMessage === undefined) throw new UsageError('missing --system-message (or --system-message-file); it may be empty: --system-message \'\'', 'job')
  const download = values['no-download'] !== true
  if (download && values.output === undefined) throw new UsageError('missing -o/--output FILE (or --no-download)', 'job')
  if (!download && values.output !== undefined) throw new UsageError('give either --output or --no-download, not both', 'job')
  const output = values.output === undefined ? undefined : await outputPath(values.output)
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval) * 1000
  if (!Number.isFinite(intervalMs) || intervalMs < 50) throw new UsageError(`--interval must be a number of seconds, at least 0.05 (got '${values.interval ?? ''}')`, 'job')
  const token = values.token ?? io.env.KILN_EXPORT_TOKEN
  const origin = server.href.replace(/\/$/, '')

  const client = new KilnExportClient({ baseUrl: server, ...(token === undefined || token === '' ? {} : { token }) })
  const fields = requestFields(request, splitName, systemMessage)
  // The body of POST /exports; the CLI's checked options, as `export` passes them to the core.
  // The format name was checked against the same registry (resolveFormat) the server's schema is made from.
  // --tools was checked to be tool definitions (readToolsFile); left out, each run's run config decides.
  const { tools, ...rest } = fields
  const body: CreateExportBody = {
    ...rest,
    format: fields.format as CreateExportBody['format'],
    ...(tools === null || tools === undefined ? {} : { tools: tools as NonNullable<CreateExportBody['tools']> })
  }
  const signal = io.signal
  const tty = io.stderr.isTTY === true
  let job: ExportJob | undefined
  let drawn = false
  try {
    job = await client.createExport(request.datasetId, body, { signal })
    say(io, `job ${job.id} ${job.state} on ${origin}`)
    let last = ''
    job = await client.waitForExport(job.id, {
      signal,
      intervalMs,
      onProgress: (current) => {
        if (!tty) return
        const line = progressLine(current)
        if (line === last) return
        // Redrawn in place; padded so a shorter line covers a longer one.
        io.stderr.write(`\r${line.padEnd(last.length)}`)
        last = line
        drawn = true
      }
    })
    if (drawn) io.stderr.write('\n')
    drawn = false
    const result = job.result
    if (result === undefined) throw new Error(`job ${job.id} is done without a result`)
    if (output === undefined) {
      io.stdout.write(`job: ${job.id}\nlines: ${result.lines}\nbytes: ${result.bytes}\nsha256: ${result.sha256}\nfile: ${origin}${job.links.file}\n`)
      return EXIT_OK
    }
    const file = await client.downloadExport(job.id, output, { signal })
    if (file.resumedFrom > 0) say(io, `resumed the download at byte ${file.resumedFrom.toLocaleString('en-US')}`)
    io.stdout.write(`job: ${job.id}\nlines: ${file.lines}\nbytes: ${file.bytes}\nsha256: ${file.sha256}\nfile: ${file.path}\n`)
    return EXIT_OK
  } catch (err) {
    if (drawn) io.stderr.write('\n')
    if (signal?.aborted === true) return await interrupted(io, client, job, values['cancel-on-interrupt'] === true, output)
    if (err instanceof KilnExportApiError) {
      if (job !== undefined && err.code !== 'KEX_CLIENT_EXPORT_CANCELLED') say(io, `job ${job.id} failed`)
      return reportApiError(io, err, origin)
    }
    if (err instanceof ExportIntegrityError) {
      say(io, `${err.message}${err.reason === 'interrupted' ? ' (run the same command again to resume)' : ''}`)
      return EXIT_DATA_ERROR
    }
    const code = connectionFailure(err)
    if (code !== undefined) {
      say(io, `cannot reach the kiln-export server at ${origin} (${code})`)
      return EXIT_DATA_ERROR
    }
    throw err
  }
}

/** Ctrl-C: stop waiting; the job keeps running on the server unless --cancel-on-interrupt. */
async function interrupted (io: CliIo, client: KilnExportClient, job: ExportJob | undefined, cancel: boolean, output: string | undefined): Promise<number> {
  if (job === undefined) {
    say(io, 'interrupted before the server answered (the job may have been created: run the same command again to wait for it)')
    return EXIT_INTERRUPTED
  }
  if (job.state === 'done') {
    say(io, `interrupted: job ${job.id} is done; run the same command again to download it${output === undefined ? '' : ` (resumed from ${output}.partial)`}`)
    return EXIT_INTERRUPTED
  }
  if (!cancel) {
    const partial = output === undefined ? '' : ' and download it'
    say(io, `interrupted: job ${job.id} keeps running on the server; run the same command again to wait for it${partial}`)
    return EXIT_INTERRUPTED
  }
  try {
    const left = await client.deleteExport(job.id, { signal: AbortSignal.timeout(10_000) })
    say(io, `interrupted: job ${job.id} ${left === undefined ? 'had finished and was deleted' : left.state}`)
  } catch (err) {
    say(io, `interrupted: cancelling job ${job.id} failed (${err instanceof Error ? err.message : String(err)}); it may still run`)
  }
  return EXIT_INTERRUPTED
}
