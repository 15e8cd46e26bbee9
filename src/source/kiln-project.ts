import { join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { type TSchema } from 'typebox'
import { type DatasetSplitData, type RunIdList, type TaskRunData } from '../format/index.js'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { FILE_LINK, FILE_MISSING, FILE_UNREADABLE, type FileBatch, type FileBatchRequest } from './file-batch.js'
import { CompactRunIds } from './compact-run-ids.js'
import { describeJsonPath, nestingTooDeepMessage, tooDeepAt } from '../json-depth.js'
import { KilnFileError, hasKilnFile, linkNames, listFolders, readBytesNoFollowSync, readKilnJson } from './kiln-files.js'
import { RunFileReader } from './run-file-reader.js'
import { parseSplitFile } from './split-file.js'
import {
  DatasetSplitFileSchema,
  ProjectFileSchema,
  TaskFileSchema,
  TaskRunSchema,
  type DatasetSplitFile,
  type ProjectFile,
  type TaskFile
} from './kiln-schemas.js'
import { type DatasetCatalog, type DatasetSource, type DatasetSummary, type RunLookup } from './types.js'

/** A dataset split file as held in memory: its id lists may be compact (readSplit). */
type SplitInMemory = Omit<DatasetSplitFile, 'split_contents'> & DatasetSplitData

/** A located dataset split: its parsed file and the folders around it. */
interface FoundSplit {
  readonly split: SplitInMemory
  readonly taskDir: string
  readonly projectDir: string
}

const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false })
function validator<T> (schema: TSchema): ValidateFunction<T> {
  return ajv.compile(schema) as ValidateFunction<T>
}
const isProject = validator<ProjectFile>(ProjectFileSchema)
const isTask = validator<TaskFile>(TaskFileSchema)
const isSplit = validator<DatasetSplitFile>(DatasetSplitFileSchema)
const isTaskRun = validator<TaskRunData>(TaskRunSchema)

/** Runs per batch: parsing a batch blocks the event loop for a few milliseconds, then it yields. */
const DEFAULT_BATCH_SIZE = 64
/** Batches the worker reads ahead of the one being parsed (about 170 KB each). */
const PREFETCH = 4
/** Batches in hand or on their way at most, counting those this thread read itself. */
const MAX_AHEAD = 12

/** One reader (and worker thread) for every mounted project of the process. */
const sharedReader = new RunFileReader()

export interface KilnProjectsOptions {
  readonly batchSize?: number
  /** Where run files are read; by default a worker thread shared by the whole process. */
  readonly reader?: RunFileReader
}

async function readTyped<T> (path: string, check: (value: unknown) => value is T): Promise<T | undefined> {
  try {
    const value = await readKilnJson(path)
    return check(value) ? value : undefined
  } catch (err) {
    if (err instanceof KilnFileError) return undefined
    throw err
  }
}

/**
 * Give a large buffer's memory back now rather than at the next full GC: transferring its
 * ArrayBuffer detaches it, and the transferred copy is garbage while still young. (A 1M-run
 * split file is 22 MB; its buffer is often promoted while it is parsed.)
 */
function releaseNow (bytes: Buffer): void {
  const { buffer } = bytes
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 1024 * 1024) structuredClone(buffer, { transfer: [buffer] })
}

/**
 * Read a dataset_split.kiln with its id lists kept compact (parseSplitFile): the schema is checked
 * on the rest of the file, the lists hold only strings by construction.
 */
async function readSplit (path: string): Promise<SplitInMemory | undefined> {
  let value: unknown
  try {
    const bytes = readBytesNoFollowSync(path)
    value = parseSplitFile(bytes)
    releaseNow(bytes)
  } catch (err) {
    if (err instanceof KilnFileError || err instanceof SyntaxError) return undefined
    throw err
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { split_contents: lists } = value as { split_contents?: unknown }
  const compact = typeof lists === 'object' && lists !== null && Object.values(lists).every((ids) => ids instanceof CompactRunIds)
  const checked = compact ? { ...value, split_contents: {} } : value
  if (!isSplit(checked)) return undefined
  return compact ? value as SplitInMemory : checked
}

/** Turn file i of a batch into a lookup; every failure names the run, never a path. */
function lookupOf (batch: FileBatch, i: number, id: string): RunLookup {
  switch (batch.status[i]) {
    case FILE_MISSING: return { id, status: 'missing' }
    case FILE_LINK: return { id, status: 'invalid', message: `Task run ${id}: task_run.kiln is a symbolic link (links are not followed)` }
    case FILE_UNREADABLE: return { id, status: 'invalid', message: `Task run ${id}: task_run.kiln cannot be read (${batch.codes[i] ?? 'error'})` }
  }
  const { bytes, starts } = batch
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', starts[i], starts[i + 1])
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { id, status: 'invalid', message: `Task run ${id}: task_run.kiln is not valid JSON (${(err as Error).message})` }
  }
  // Before the schema check and the formatter, which walk it recursively.
  const deep = tooDeepAt(value)
  if (deep !== undefined) return { id, status: 'invalid', message: `Task run ${id}: ${nestingTooDeepMessage(describeJsonPath('task_run.kiln', deep))}` }
  if (!isTaskRun(value)) {
    const error = isTaskRun.errors?.[0]
    const detail = error === undefined ? 'unexpected shape' : `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`
    return { id, status: 'invalid', message: `Task run ${id}: task_run.kiln is not a valid Kiln task run (${detail})` }
  }
  // Kiln finds runs by the id inside the file; a folder holding another run is not this one.
  if (value.id !== id) return { id, status: 'invalid', message: `Task run ${id}: its folder holds run ${value.id}` }
  return { id, status: 'found', run: value }
}

/** A batch on its way: its promise, and the batch itself once it is here. */
interface Fetch {
  readonly promise: Promise<FileBatch>
  batch?: FileBatch
}

/** True when there is nothing to wait for: no batch at all, or one that has arrived. */
const arrived = (fetch: Fetch | undefined): boolean => fetch === undefined || fetch.batch !== undefined

/**
 * Yield the lookups of `ids` in order, in batches. The reader's worker fetches the next batches
 * while this one is parsed (at most PREFETCH in flight, so memory stays bounded). When the batch
 * needed next has not arrived, this thread reads the next unrequested batch itself instead of
 * waiting (at most MAX_AHEAD batches ahead): on a 2-core machine the worker's system calls are
 * the slower half of the check pass. The event loop gets a turn between batches, so other
 * requests and the client's backpressure are served.
 */
async function * readRunsInOrder (
  reader: RunFileReader,
  runsDir: string,
  links: Promise<ReadonlySet<string>>,
  ids: RunIdList,
  batchSize: number,
  signal?: AbortSignal
): AsyncIterable<readonly RunLookup[]> {
  const linked = [...await links]
  const queue: Fetch[] = []
  let next = 0
  const request = (): FileBatchRequest => {
    const names = [...ids.slice(next, next + batchSize)]
    next += names.length
    return { dir: runsDir, names, file: 'task_run.kiln', links: linked }
  }
  // The worker always has up to PREFETCH batches to read, whatever this thread read itself.
  const fetchMore = (): void => {
    while (queue.filter((fetch) => !arrived(fetch)).length < PREFETCH && queue.length < MAX_AHEAD && next < ids.length) {
      const fetch: Fetch = { promise: reader.read(request()) }
      // A batch left unread after an abort must not become an unhandled rejection.
      fetch.promise.then((batch) => { fetch.batch = batch }, () => {})
      queue.push(fetch)
    }
  }
  // A function, not a narrowed expression: the signal can abort during any await below.
  const aborted = (): boolean => signal?.aborted === true
  for (let start = 0; start < ids.length; start += batchSize) {
    if (aborted()) return
    fetchMore()
    // Rather than wait for the worker, read a batch here, then give its answer a chance to
    // arrive, until it has; the worker keeps its own batches meanwhile.
    while (!arrived(queue[0]) && queue.length < MAX_AHEAD && next < ids.length) {
      const batch = reader.readHere(request())
      queue.push({ promise: Promise.resolve(batch), batch })
      await yieldToEventLoop()
      fetchMore()
    }
    const batch = await queue.shift()?.promise
    if (batch === undefined) return
    if (start > 0) await yieldToEventLoop()
    if (aborted()) return
    const lookups = Array.from(ids.slice(start, start + batchSize), (id, i) => lookupOf(batch, i, id))
    // The lookups hold decoded copies: the batch's buffer can go back to the reader.
    reader.recycle(batch)
    yield lookups
  }
}

/**
 * The Kiln projects under one mounted folder (spec section 7): the folder is a project itself
 * (holds project.kiln) or holds project folders one level down. Nothing is cached, so splits and
 * runs added or deleted on disk are seen by the next request. The service only ever reads here.
 */
export class KilnProjects implements DatasetCatalog {
  private readonly batchSize: number
  private readonly reader: RunFileReader

  constructor (readonly root: string, options: KilnProjectsOptions = {}) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
    this.reader = options.reader ?? sharedReader
  }

  /** The project folders: the root itself, or its subfolders that hold a project.kiln. */
  async projectDirs (): Promise<string[]> {
    if (await hasKilnFile(this.root, 'project.kiln')) return [this.root]
    const dirs: string[] = []
    for (const name of await listFolders(this.root)) {
      const dir = join(this.root, name)
      if (await hasKilnFile(dir, 'project.kiln')) dirs.push(dir)
    }
    return dirs
  }

  /** Every task folder of every project. */
  private async * taskDirs (): AsyncIterable<{ projectDir: string, taskDir: string }> {
    for (const projectDir of await this.projectDirs()) {
      const tasksDir = join(projectDir, 'tasks')
      for (const name of await listFolders(tasksDir)) yield { projectDir, taskDir: join(tasksDir, name) }
    }
  }

  /**
   * Locate dataset split `id`. Kiln names split folders `<id> - <name>`, so only folders whose name
   * starts with the id are read; the id inside the file decides. Only when no folder name matches
   * (a folder renamed by hand) are the other split files read.
   */
  private async findSplit (id: string): Promise<FoundSplit | undefined> {
    const others: Array<{ projectDir: string, taskDir: string, file: string }> = []
    for await (const { projectDir, taskDir } of this.taskDirs()) {
      const splitsDir = join(taskDir, 'dataset_splits')
      for (const name of await listFolders(splitsDir)) {
        const file = join(splitsDir, name, 'dataset_split.kiln')
        if (name !== id && !name.startsWith(`${id} - `)) {
          others.push({ projectDir, taskDir, file })
          continue
        }
        const split = await readSplit(file)
        if (split?.id === id) return { split, taskDir, projectDir }
      }
    }
    for (const { projectDir, taskDir, file } of others) {
      const split = await readSplit(file)
      if (split?.id === id) return { split, taskDir, projectDir }
    }
    return undefined
  }

  /** The export source of dataset split `id`, or undefined when no mounted project has it. */
  async find (id: string): Promise<DatasetSource | undefined> {
    const found = await this.findSplit(id)
    if (found === undefined) return undefined
    const runsDir = join(found.taskDir, 'runs')
    const { batchSize, reader } = this
    const split: DatasetSplitData = found.split
    // One listing of runs/ serves every pass of this export (see linkNames).
    let links: Promise<ReadonlySet<string>> | undefined
    return {
      split,
      runs: (ids, signal) => {
        links ??= linkNames(runsDir)
        return readRunsInOrder(reader, runsDir, links, ids, batchSize, signal)
      }
    }
  }

  private async summarize (found: FoundSplit): Promise<DatasetSummary | undefined> {
    const [project, task] = await Promise.all([
      readTyped(join(found.projectDir, 'project.kiln'), isProject),
      readTyped(join(found.taskDir, 'task.kiln'), isTask)
    ])
    if (project === undefined || task === undefined) return undefined
    const { split } = found
    return {
      id: split.id,
      name: split.name,
      description: split.description ?? null,
      project: { id: project.id, name: project.name },
      task: { id: task.id, name: task.name, structured_output: task.output_json_schema != null },
      splits: Object.entries(split.split_contents).map(([name, ids]) => ({ name, run_count: ids.length }))
    }
  }

  /** One dataset split's summary, or undefined. */
  async describe (id: string): Promise<DatasetSummary | undefined> {
    const found = await this.findSplit(id)
    return found === undefined ? undefined : this.summarize(found)
  }

  /** Every readable dataset split of every mounted project (unreadable files are skipped). */
  async list (): Promise<DatasetSummary[]> {
    const result: DatasetSummary[] = []
    for await (const { projectDir, taskDir } of this.taskDirs()) {
      const splitsDir = join(taskDir, 'dataset_splits')
      for (const name of await listFolders(splitsDir)) {
        const split = await readSplit(join(splitsDir, name, 'dataset_split.kiln'))
        if (split === undefined) continue
        const summary = await this.summarize({ split, taskDir, projectDir })
        if (summary !== undefined) result.push(summary)
      }
    }
    return result.sort((a, b) => a.project.name.localeCompare(b.project.name) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
  }
}
