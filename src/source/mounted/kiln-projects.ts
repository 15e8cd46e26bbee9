import { createHash } from 'node:crypto'
import { lstat, realpath } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type DatasetSplitData, type RunIdList } from '../../format/index.js'
import { decodeProject, decodeSplitFile, decodeTask, type Decoded, type ProjectFile, type SplitRecord, type TaskFile } from '../kiln/index.js'
import { ProjectProblemError, ambiguousDataset, invalidFile, unreadableFile } from '../project-problem.js'
import { datasetSummary, type DatasetSummary } from '../summary.js'
import { type DatasetListing, type DatasetSource, type ProjectProblem, type ProjectsCatalog } from '../types.js'
import {
  CHECKS_OPENED_PATH,
  DEFAULT_MAX_RUN_FILE_BYTES,
  KilnFileError,
  hasKilnFile,
  isPlainSegment,
  kilnFileLimit,
  linkNames,
  listFolders,
  readKilnFile,
  readKilnJson,
  type FileLimit
} from './kiln-files.js'
import { readRunsInOrder } from './read-runs.js'
import { RunFileReader } from './run-file-reader.js'

/*
 * The catalogue of a mounted folder of Kiln projects: it finds, lists and describes dataset
 * splits over the folders. Files are read by kiln-files.ts (every path rule is there), run files
 * by read-runs.ts on a worker thread, and every file's content is decoded by ../kiln/.
 */

/** A located dataset split: its parsed file, where it is, and the folders around it. */
interface FoundSplit {
  readonly split: SplitRecord
  readonly file: string
  readonly taskDir: string
  readonly projectDir: string
}

/** A dataset split with its project and task files, all readable: what can be listed and exported. */
interface LocatedSplit extends FoundSplit {
  readonly project: ProjectFile
  readonly task: TaskFile
}

/** Runs per batch: parsing a batch blocks the event loop for a few milliseconds, then it yields. */
const DEFAULT_BATCH_SIZE = 64

/** Run files stated at once for a content digest. */
const STAT_BATCH = 256

/** One reader (and worker thread) for every mounted project of the process. */
const sharedReader = new RunFileReader()

export interface KilnProjectsOptions {
  readonly batchSize?: number
  /** Where run files are read; by default a worker thread shared by the whole process. */
  readonly reader?: RunFileReader
  /** Largest project.kiln, task.kiln or dataset_split.kiln read (MAX_KILN_FILE_BYTES). */
  readonly maxFileBytes?: number
  /** Largest task_run.kiln read (MAX_RUN_FILE_BYTES). */
  readonly maxRunFileBytes?: number
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

/** Split folders named for `id`: Kiln names them `<id> - <name>`. */
const namedFor = (name: string, id: string): boolean => name === id || name.startsWith(`${id} - `)

/**
 * The Kiln projects under one mounted folder (spec section 7): the folder is a project itself
 * (holds project.kiln) or holds project folders one level down. Nothing is cached, so splits and
 * runs added or deleted on disk are seen by the next request. The service only ever reads here.
 * A file that cannot be used (not a regular file, over its size limit, not Kiln's) is refused by
 * name (ProjectProblemError) for the requests that need it, and reported by the listing, which
 * lists everything else.
 */
export class KilnProjects implements ProjectsCatalog {
  private readonly batchSize: number
  private readonly reader: RunFileReader
  private readonly limit: FileLimit
  private readonly maxRunFileBytes: number

  constructor (readonly root: string, options: KilnProjectsOptions = {}) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
    this.reader = options.reader ?? sharedReader
    this.limit = kilnFileLimit(options.maxFileBytes)
    this.maxRunFileBytes = options.maxRunFileBytes ?? DEFAULT_MAX_RUN_FILE_BYTES
  }

  /**
   * The mounted folder's real path, resolved for each request: every path is built from it and
   * plain names, which is what lets openKilnFile spot a link on the way (kiln-files.ts).
   */
  private async realRoot (): Promise<string> {
    return await realpath(this.root).catch(() => resolve(this.root))
  }

  /**
   * The project folders: the root itself, or its subfolders that hold a project.kiln (of any kind:
   * one that cannot be read is reported, not ignored). `root`: the real root, when resolved already.
   */
  async projectDirs (root?: string): Promise<string[]> {
    root ??= await this.realRoot()
    if (await hasKilnFile(root, 'project.kiln')) return [root]
    const dirs: string[] = []
    for (const name of await listFolders(root)) {
      const dir = join(root, name)
      if (await hasKilnFile(dir, 'project.kiln')) dirs.push(dir)
    }
    return dirs
  }

  /** Every task folder of every project. */
  private async * taskDirs (root: string): AsyncIterable<{ projectDir: string, taskDir: string }> {
    for (const projectDir of await this.projectDirs(root)) {
      const tasksDir = join(projectDir, 'tasks')
      for (const name of await listFolders(tasksDir)) yield { projectDir, taskDir: join(tasksDir, name) }
    }
  }

  /** A project.kiln or task.kiln, decoded; throws ProjectProblemError. */
  private readTyped<T> (root: string, path: string, decode: (value: unknown) => Decoded<T>, what: string): T {
    let value: unknown
    try {
      value = readKilnJson(path, this.limit)
    } catch (err) {
      throw err instanceof KilnFileError ? unreadableFile(root, path, err) : err
    }
    const decoded = decode(value)
    if ('detail' in decoded) throw invalidFile(root, path, what, decoded.detail)
    return decoded.record
  }

  /** A dataset_split.kiln; throws ProjectProblemError. */
  private readSplit (root: string, path: string): SplitRecord {
    let bytes: Buffer
    try {
      bytes = readKilnFile(path, this.limit)
    } catch (err) {
      throw err instanceof KilnFileError ? unreadableFile(root, path, err) : err
    }
    const decoded = decodeSplitFile(bytes)
    releaseNow(bytes)
    if ('detail' in decoded) throw invalidFile(root, path, 'dataset split', decoded.detail)
    return decoded.record
  }

  /**
   * Locate dataset split `id`. The id inside each dataset_split.kiln decides (Kiln's folder names,
   * `<id> - <name>`, can be changed by hand), so every split file is read: two that hold the id
   * (a copied project or split folder) are refused as ambiguous rather than one picked. When none
   * holds it but a folder named for the id could not be read, that file's problem is the answer
   * (not a 404).
   */
  private async findSplit (root: string, id: string): Promise<FoundSplit | undefined> {
    const found: FoundSplit[] = []
    let problem: ProjectProblemError | undefined
    for await (const { projectDir, taskDir } of this.taskDirs(root)) {
      const splitsDir = join(taskDir, 'dataset_splits')
      for (const name of await listFolders(splitsDir)) {
        const file = join(splitsDir, name, 'dataset_split.kiln')
        try {
          const split = this.readSplit(root, file)
          if (split.id === id) found.push({ split, taskDir, projectDir, file })
        } catch (err) {
          if (!(err instanceof ProjectProblemError)) throw err
          if (namedFor(name, id)) problem ??= err
        }
      }
    }
    if (found.length > 1) throw ambiguousDataset(root, id, found.map((f) => f.file))
    if (found.length === 0 && problem !== undefined) throw problem
    return found[0]
  }

  /** Split `id` with its project and task files, which must be usable too, as for the listing. */
  private async locate (id: string): Promise<LocatedSplit | undefined> {
    const root = await this.realRoot()
    const found = await this.findSplit(root, id)
    if (found === undefined) return undefined
    const project = this.readTyped(root, join(found.projectDir, 'project.kiln'), decodeProject, 'project file')
    const task = this.readTyped(root, join(found.taskDir, 'task.kiln'), decodeTask, 'task file')
    return { ...found, project, task }
  }

  /** The export source of dataset split `id`, or undefined when no mounted project has it. */
  async find (id: string): Promise<DatasetSource | undefined> {
    const found = await this.locate(id)
    if (found === undefined) return undefined
    const dir = join(found.taskDir, 'runs')
    const { batchSize, reader, maxRunFileBytes: maxBytes } = this
    const split: DatasetSplitData = found.split
    // Where open files are checked (Linux) no listing of links is needed; elsewhere one listing
    // of runs/ serves every pass of this export (see linkNames).
    let links: Promise<ReadonlySet<string>> | undefined
    return {
      split,
      structuredOutput: found.task.output_json_schema != null,
      runs: (ids: RunIdList, signal?: AbortSignal) => {
        links ??= CHECKS_OPENED_PATH ? Promise.resolve(new Set()) : linkNames(dir)
        return readRunsInOrder(reader, { dir, links, maxBytes }, ids, batchSize, signal)
      },
      contentDigest: async (ids: RunIdList, signal?: AbortSignal) => await this.contentDigest(found.file, dir, ids, signal)
    }
  }

  /**
   * The split file's bytes and, per run, its task_run.kiln's size, modification and change times
   * and inode (lstat: a link is stated, never followed), hashed: a run file rewritten (even to the
   * same size) or replaced changes its change time, so the digest changes; no run is read.
   */
  private async contentDigest (splitFile: string, runsDir: string, ids: RunIdList, signal?: AbortSignal): Promise<string> {
    const hash = createHash('sha256')
    let bytes: Buffer
    try {
      bytes = readKilnFile(splitFile, this.limit)
    } catch (err) {
      throw err instanceof KilnFileError ? unreadableFile(await this.realRoot(), splitFile, err) : err
    }
    hash.update(createHash('sha256').update(bytes).digest('hex'))
    const all = [...ids]
    for (let start = 0; start < all.length; start += STAT_BATCH) {
      signal?.throwIfAborted()
      const names = all.slice(start, start + STAT_BATCH)
      const stats = await Promise.all(names.map(async (id) => isPlainSegment(id)
        ? await lstat(join(runsDir, id, 'task_run.kiln'), { bigint: true }).catch((err: NodeJS.ErrnoException) => err.code ?? 'error')
        : 'invalid'))
      for (const [i, info] of stats.entries()) {
        const state = typeof info === 'string' ? info : `${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.ino}:${info.mode}`
        hash.update(`\n${names[i] ?? ''}\0${state}`)
      }
    }
    return hash.digest('hex')
  }

  /** One dataset split's summary, or undefined. */
  async describe (id: string): Promise<DatasetSummary | undefined> {
    const found = await this.locate(id)
    return found === undefined ? undefined : datasetSummary(found)
  }

  /**
   * Every dataset split of every mounted project whose files can all be used, and a problem for
   * each file that cannot (it, or what depends on it, is left out of the list). A dataset split id
   * held by two split files is listed each time, marked `ambiguous`, with a problem naming both:
   * requests for it are refused (findSplit).
   */
  async list (): Promise<DatasetListing> {
    const problems: ProjectProblem[] = []
    const attempt = <T>(read: () => T): T | undefined => {
      try {
        return read()
      } catch (err) {
        if (!(err instanceof ProjectProblemError)) throw err
        problems.push(err.problem)
        return undefined
      }
    }
    // Every readable split file, listed or not: a copy in a broken project is still a copy.
    const splits: Array<{ split: SplitRecord, file: string, project?: ProjectFile, task?: TaskFile }> = []
    const root = await this.realRoot()
    for (const projectDir of await this.projectDirs(root)) {
      const project = attempt(() => this.readTyped(root, join(projectDir, 'project.kiln'), decodeProject, 'project file'))
      const tasksDir = join(projectDir, 'tasks')
      for (const taskName of await listFolders(tasksDir)) {
        const taskDir = join(tasksDir, taskName)
        const task = attempt(() => this.readTyped(root, join(taskDir, 'task.kiln'), decodeTask, 'task file'))
        const splitsDir = join(taskDir, 'dataset_splits')
        for (const name of await listFolders(splitsDir)) {
          const file = join(splitsDir, name, 'dataset_split.kiln')
          const split = attempt(() => this.readSplit(root, file))
          if (split !== undefined) splits.push({ split, file, project, task })
        }
      }
    }
    const files = new Map<string, string[]>()
    for (const { split, file } of splits) files.set(split.id, [...files.get(split.id) ?? [], file])
    const datasets: DatasetSummary[] = []
    for (const { split, project, task } of splits) {
      if (project === undefined || task === undefined) continue
      const ambiguous = (files.get(split.id)?.length ?? 0) > 1
      datasets.push({ ...datasetSummary({ split, project, task }), ...(ambiguous ? { ambiguous } : {}) })
    }
    for (const [id, copies] of files) {
      if (copies.length > 1) problems.push(ambiguousDataset(root, id, copies).problem)
    }
    datasets.sort((a, b) => a.project.name.localeCompare(b.project.name) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    problems.sort((a, b) => compareText(a.files[0] ?? '', b.files[0] ?? ''))
    return { datasets, problems }
  }
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compareText (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
