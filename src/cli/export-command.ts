import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DATA_ERRORS } from '../errors.js'
import { ExportDataError, prepareExport, type PreparedExport } from '../export/prepare-export.js'
import { DATA_STRATEGIES, DATASET_FORMATS, FormatError, isDatasetFormat, type DataStrategy } from '../format/index.js'
import { KilnProjects } from '../source/kiln-project.js'
import { existingFolder, parseOrUsage, required } from './args.js'
import { EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'
import { createProgress, isBrokenPipe, writeFileAtomically, writeToStream } from './output.js'

/** Exit status of a command interrupted by SIGINT/SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130

const OPTIONS = {
  project: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  format: { type: 'string' },
  strategy: { type: 'string' },
  'system-message': { type: 'string' },
  'system-message-file': { type: 'string' },
  'thinking-instructions': { type: 'string' },
  output: { type: 'string', short: 'o' }
} as const

/** The system message from a file: strict UTF-8, one final newline (`\n` or `\r\n`) dropped. */
export async function readSystemMessageFile (path: string): Promise<string> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    const reason = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unreadable'
    throw new UsageError(`cannot read --system-message-file ${path} (${reason})`, 'export')
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new UsageError(`--system-message-file ${path} is not valid UTF-8`, 'export')
  }
  return text.replace(/\r?\n$/, '')
}

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
  const projectArg = required('export', 'project', values.project)
  const datasetId = required('export', 'dataset', values.dataset)
  const splitName = required('export', 'split', values.split)
  const format = required('export', 'format', values.format)
  if (!isDatasetFormat(format)) throw new UsageError(`--format must be one of: ${DATASET_FORMATS.join(', ')} (got '${format}')`, 'export')
  const strategy = values.strategy ?? 'final_only'
  if (!(DATA_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of: ${DATA_STRATEGIES.join(', ')} (got '${strategy}')`, 'export')
  }
  if (values['system-message'] !== undefined && values['system-message-file'] !== undefined) {
    throw new UsageError('give either --system-message or --system-message-file, not both', 'export')
  }
  const messageFile = values['system-message-file']
  const systemMessage = messageFile === undefined ? values['system-message'] : await readSystemMessageFile(messageFile)
  if (systemMessage === undefined) throw new UsageError('missing --system-message (or --system-message-file); it may be empty: --system-message \'\'', 'export')
  const output = await outputPath(values.output)
  const projectDir = await existingFolder('export', 'project', projectArg)

  const source = await new KilnProjects(projectDir).find(datasetId)
  if (source === undefined) {
    say(io, `Dataset split ${datasetId} not found in the Kiln projects under ${projectArg}`)
    io.stderr.write('  code: KEX_DATASET_NOT_FOUND\n')
    return EXIT_DATA_ERROR
  }

  let prepared: PreparedExport
  try {
    prepared = await prepareExport(source, {
      splitName,
      format,
      dataStrategy: strategy as DataStrategy,
      systemMessage,
      thinkingInstructions: values['thinking-instructions'] ?? null
    }, { signal: io.signal })
  } catch (err) {
    if (err instanceof ExportDataError || err instanceof FormatError) return reportDataError(io, err)
    if (io.signal?.aborted === true) {
      say(io, 'interrupted')
      return EXIT_INTERRUPTED
    }
    throw err
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
