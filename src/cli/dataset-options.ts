import { readFile } from 'node:fs/promises'
import { DATA_STRATEGIES, FORMAT_NAMES, PAIR_BY, resolveFormat, type DataStrategy, type DatasetFormat, type PairBy } from '../format/index.js'
import { PROJECT_PROBLEMS } from '../errors.js'
import { ProjectProblemError, openCatalog, type DatasetSource } from '../source/index.js'
import { existingFolder, required } from './args.js'
import { EXIT_DATA_ERROR, UsageError, say, type CliIo } from './io.js'

/** The export options `export`, `validate` and `job` share: which dataset, which format, which messages. */
export const EXPORT_OPTIONS = {
  dataset: { type: 'string' },
  split: { type: 'string' },
  format: { type: 'string' },
  strategy: { type: 'string' },
  'system-message': { type: 'string' },
  'system-message-file': { type: 'string' },
  'thinking-instructions': { type: 'string' },
  'no-tool-calls': { type: 'boolean' },
  tools: { type: 'string' },
  'pair-by': { type: 'string' }
} as const

/** The options of the commands that read a Kiln project folder (`export`, `validate`): EXPORT_OPTIONS and --project. */
export const DATASET_OPTIONS = {
  project: { type: 'string' },
  ...EXPORT_OPTIONS
} as const

/** Parsed values of DATASET_OPTIONS. */
export interface DatasetOptionValues {
  readonly project?: string
  readonly dataset?: string
  readonly format?: string
  readonly strategy?: string
  readonly 'system-message'?: string
  readonly 'system-message-file'?: string
  readonly 'thinking-instructions'?: string
  readonly 'no-tool-calls'?: boolean
  readonly tools?: string
  readonly 'pair-by'?: string
}

/** The checked export options (no project folder: `job` sends them to a server). */
export interface ExportOptionsRequest {
  readonly datasetId: string
  readonly format: DatasetFormat
  /** The name given (`vertex_gemini` keeps its name in the file name). */
  readonly formatName: string
  readonly dataStrategy: DataStrategy
  /** Undefined when neither --system-message nor --system-message-file was given. */
  readonly systemMessage: string | undefined
  readonly thinkingInstructions: string | null
  /** False with --no-tool-calls: the runs' traces are left out. */
  readonly includeToolCalls: boolean
  /** Definitions from --tools FILE, for every line; null: each run's run config decides. */
  readonly tools: readonly unknown[] | null
  /** --pair-by (preference formats); undefined when not given. */
  readonly pairBy: PairBy | undefined
}

/** A checked dataset request of the CLI: the export options and the project folder they read. */
export interface DatasetRequest extends ExportOptionsRequest {
  readonly projectArg: string
  readonly projectDir: string
}

/** The system message from a file: strict UTF-8, one final newline (`\n` or `\r\n`) dropped. */
export async function readSystemMessageFile (path: string, command: string): Promise<string> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    const reason = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unreadable'
    throw new UsageError(`cannot read --system-message-file ${path} (${reason})`, command)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new UsageError(`--system-message-file ${path} is not valid UTF-8`, command)
  }
  return text.replace(/\r?\n$/, '')
}

/** Check the shared options (usage errors name the option) and resolve the project folder. */
export async function datasetRequest (command: string, values: DatasetOptionValues): Promise<DatasetRequest> {
  const projectArg = required(command, 'project', values.project)
  const options = await exportOptionsRequest(command, values)
  return { projectArg, projectDir: await existingFolder(command, 'project', projectArg), ...options }
}

/** Check the export options (usage errors name the option), without a project folder. */
export async function exportOptionsRequest (command: string, values: Omit<DatasetOptionValues, 'project'>): Promise<ExportOptionsRequest> {
  const datasetId = required(command, 'dataset', values.dataset)
  const formatName = required(command, 'format', values.format)
  const format = resolveFormat(formatName)
  if (format === undefined) throw new UsageError(`--format must be one of: ${FORMAT_NAMES.join(', ')} (got '${formatName}')`, command)
  const strategy = values.strategy ?? 'final_only'
  if (!(DATA_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of: ${DATA_STRATEGIES.join(', ')} (got '${strategy}')`, command)
  }
  const pairBy = values['pair-by']
  if (pairBy !== undefined && !(PAIR_BY as readonly string[]).includes(pairBy)) {
    throw new UsageError(`--pair-by must be one of: ${PAIR_BY.join(', ')} (got '${pairBy}')`, command)
  }
  if (values['system-message'] !== undefined && values['system-message-file'] !== undefined) {
    throw new UsageError('give either --system-message or --system-message-file, not both', command)
  }
  const messageFile = values['system-message-file']
  const systemMessage = messageFile === undefined ? values['system-message'] : await readSystemMessageFile(messageFile, command)
  return {
    datasetId,
    format,
    formatName,
    dataStrategy: strategy as DataStrategy,
    systemMessage,
    thinkingInstructions: values['thinking-instructions'] ?? null,
    includeToolCalls: values['no-tool-calls'] !== true,
    tools: values.tools === undefined ? null : await readToolsFile(values.tools, command),
    pairBy: pairBy as PairBy | undefined
  }
}

/** OpenAI tool definitions from a JSON file: an array of {"type": "function", "function": {...}}. */
async function readToolsFile (path: string, command: string): Promise<readonly unknown[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const reason = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unreadable'
    throw new UsageError(`cannot read --tools ${path} (${reason})`, command)
  }
  let tools: unknown
  try {
    tools = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--tools ${path} is not JSON (${err instanceof Error ? err.message : 'parse error'})`, command)
  }
  const isTool = (t: unknown): boolean => typeof t === 'object' && t !== null &&
    typeof (t as { function?: { name?: unknown } }).function?.name === 'string'
  if (!Array.isArray(tools) || !tools.every(isTool)) {
    throw new UsageError(`--tools ${path} must hold a JSON array of OpenAI tool definitions ({"type": "function", "function": {"name": ...}})`, command)
  }
  return tools
}

/** The dataset split's source, or undefined after telling the user it does not exist or cannot be read. */
export async function findDataset (request: DatasetRequest, io: CliIo): Promise<DatasetSource | undefined> {
  let source: DatasetSource | undefined
  try {
    source = await openCatalog({ projectsDir: request.projectDir }).find(request.datasetId)
  } catch (err) {
    if (!(err instanceof ProjectProblemError)) throw err
    say(io, err.message)
    io.stderr.write(`  code: ${PROJECT_PROBLEMS[err.problem.reason].code}\n`)
    return undefined
  }
  if (source === undefined) {
    say(io, `Dataset split ${request.datasetId} not found in the Kiln projects under ${request.projectArg}`)
    io.stderr.write('  code: KEX_DATASET_NOT_FOUND\n')
  }
  return source
}

/** Exit status for an unknown dataset (a 404 in the API). */
export const EXIT_UNKNOWN_DATASET = EXIT_DATA_ERROR
