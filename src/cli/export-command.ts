import { stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DATA_ERRORS } from '../errors.js'
import { ExportDataError, prepareExport, type PreparedExport } from '../export/prepare-export.js'
import { exportParams } from '../export/request-params.js'
import { FormatError } from '../format/index.js'
import { parseOrUsage, required } from './args.js'
import { DATASET_OPTIONS, EXIT_UNKNOWN_DATASET, datasetRequest, findDataset } from './dataset-options.js'
import { EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'
import { writeFileAtomically } from '../jsonl/write-file-atomically.js'
import { createProgress, isBrokenPipe, writeToStream } from './output.js'
import { requestFields } from './request-fields.js'

/** Exit status of a command interrupted by SIGINT/SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130

const OPTIONS = {
  ...DATASET_OPTIONS,
  output: { type: 'string', short: 'o' }
} as const

/** Where the export goes: stdout, or a file whose folder exists. */
async function outputPath (path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined
  if (path === '') throw new UsageError('--output needs a file name', 'export')
  const absolute = resolve(path)
  const folder = await stat(dirname(absolute)).then((s) => s.isDirectory(), () => false)
  if (!folder) throw new UsageError(`--output: folder ${dirname(path)} does not exist`, 'export')
  const isDirectory = await stat(absolute).then((s) => s.isDirectory(), () => false)
  if (isDirectory) throw new UsageError(`--output ${path} is a folder`, 'export')
  return absolute
}

/** Print a refused export the way the API answers it: Kiln's message, the code, every run id. */
function reportDataError (io: CliIo, err: ExportDataError | FormatError): number {
  const mapped = DATA_ERRORS[err.code]
  say(io, err.message)
  const runIds = err instanceof ExportDataError ? err.runIds : err.runId === undefined ? [] : [err.runId]
  io.stderr.write(`  code: ${mapped.code}\n`)
  if (runIds.length > 0) io.stderr.write(`  run ids (${runIds.length}): ${runIds.join(', ')}\n`)
  // Per-run detail only when it says more than the headline (runs refused for different reasons).
  if (err instanceof ExportDataError && err.problems.some((p) => p.message !== err.message)) {
    for (const problem of err.problems) io.stderr.write(`  - run ${problem.runId}: ${problem.message}\n`)
  }
  // A request-level refusal (a format/strategy combination) is a usage problem, as it is a 400 in the API.
  return mapped.statusCode === 400 ? EXIT_USAGE : EXIT_DATA_ERROR
}

/** `kiln-export export`: check the whole split, then write it to stdout or atomically to a file. */
export async function exportCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('export', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const request = await datasetRequest('export', values)
  const splitName = required('export', 'split', values.split)
  const { systemMessage } = request
  if (systemMessage === undefined) throw new UsageError('missing --system-message (or --system-message-file); it may be empty: --system-message \'\'', 'export')
  const output = await outputPath(values.output)
  const source = await findDataset(request, io)
  if (source === undefined) return EXIT_UNKNOWN_DATASET

  let prepared: PreparedExport
  try {
    prepared = await prepareExport(source, exportParams(requestFields(request, splitName, systemMessage)), { signal: io.signal })
  } catch (err) {
    if (err instanceof ExportDataError || err instanceof FormatError) return reportDataError(io, err)
    if (io.signal?.aborted === true) {
      say(io, 'interrupted')
      return EXIT_INTERRUPTED
    }
    throw err
  }

  if (prepared.skippedRuns !== undefined && prepared.skippedRuns > 0) {
    say(io, `${prepared.skippedRuns} run${prepared.skippedRuns === 1 ? '' : 's'} skipped: no preference pair (kiln-export validate lists them)`)
  }
  try {
    if (output === undefined) {
      await writeToStream(io.stdout, prepared.chunks)
      return EXIT_OK
    }
    const progress = io.stderr.isTTY === true ? createProgress(io.stderr, basename(output), prepared.lineCount) : undefined
    await writeFileAtomically(output, prepared.chunks, { signal: io.signal, onChunk: progress?.onChunk })
    progress?.finish()
    return EXIT_OK
  } catch (err) {
    if (io.signal?.aborted === true) {
      say(io, output === undefined ? 'interrupted' : `interrupted: ${values.output ?? ''} was not written`)
      return EXIT_INTERRUPTED
    }
    if (output === undefined && isBrokenPipe(err)) return EXIT_OK
    // The data changed between the check and the write (a mounted run file edited or deleted).
    if (err instanceof FormatError) {
      const status = reportDataError(io, err)
      if (output !== undefined) say(io, `${values.output ?? ''} was not written`)
      return status
    }
    const reason = err instanceof Error ? err.message : String(err)
    say(io, output === undefined ? `writing the export failed: ${reason}` : `writing ${values.output ?? ''} failed: ${reason}`)
    return EXIT_DATA_ERROR
  }
}
