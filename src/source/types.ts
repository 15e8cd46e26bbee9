import { type DatasetSplitData, type RunIdList, type TaskRunData } from '../format/index.js'
import { type DatasetSummary } from './summary.js'

/*
 * The source contract: where the task runs of a dataset split come from, as the rest of the
 * service (routes, CLI, export, validation) sees it. The inline body is a DatasetSource only; a
 * source of Kiln projects (the mounted folder today) is a ProjectsCatalog.
 *
 * How to add a source of Kiln projects (a git repository, an object-store prefix):
 * 1. Write src/source/<name>/ with one class that implements ProjectsCatalog: find, describe,
 *    list, projectDirs. src/source/mounted/ is the worked example.
 * 2. Decode every Kiln file with ./kiln/ (decodeProject, decodeTask, decodeSplitFile,
 *    decodeTaskRunFile), summarise with datasetSummary (./summary.ts), and refuse a file that
 *    cannot be used with ProjectProblemError (./project-problem.ts): the HTTP layer and the CLI
 *    already answer it, and the messages match the mounted folder's.
 * 3. Open it in openCatalog() (./catalog.ts), from its setting in src/config.ts.
 */

export type { DatasetSummary, SplitSummary } from './summary.js'

/** What a source found for one run id of a split. */
export type RunLookup =
  | { readonly id: string, readonly status: 'found', readonly run: TaskRunData }
  | { readonly id: string, readonly status: 'missing' }
  /** The run exists but cannot be read as a Kiln task run (a source's task_run.kiln). */
  | { readonly id: string, readonly status: 'invalid', readonly message: string }

/** Where the task runs of one dataset split come from: the request body or a source's project. */
export interface DatasetSource {
  /** The dataset split being exported. */
  readonly split: DatasetSplitData
  /**
   * True when the split's task has an output JSON schema (task.kiln `output_json_schema`, or the
   * inline body's `task`): the preference formats then parse and re-serialise both answers.
   */
  readonly structuredOutput?: boolean
  /**
   * Yield one lookup per id, in the given order (ids may repeat), in batches so that a large
   * split does not pay an await per run; stops early when `signal` aborts.
   */
  runs (ids: RunIdList, signal?: AbortSignal): AsyncIterable<readonly RunLookup[]>
  /**
   * Optional, for sources on disk: a hex digest that changes when what an export of these runs
   * would read changes (the split file's bytes, each run file's size and times), without reading
   * the runs. Export jobs use it to tell the same request over the same content (src/jobs/job-id.ts).
   */
  contentDigest? (ids: RunIdList, signal?: AbortSignal): Promise<string>
}

/** Finds dataset splits by id in a source's Kiln projects. */
export interface DatasetResolver {
  /**
   * The source for dataset split `id`, or undefined when no project has it. Throws
   * ProjectProblemError when a file it needs cannot be used.
   */
  find (id: string): Promise<DatasetSource | undefined>
}

/**
 * Why a mounted project's file cannot be used; the HTTP layer maps each reason to a `KEX_` code
 * and a status (src/errors.ts).
 */
export type ProjectProblemReason = 'not_regular' | 'too_large' | 'invalid' | 'ambiguous'

/** A file of a mounted project that cannot be used (or a dataset split id in several), as GET /datasets reports it. */
export interface ProjectProblem {
  readonly reason: ProjectProblemReason
  /** The files concerned, relative to the mounted folder. */
  readonly files: readonly string[]
  /** What is wrong and how to fix it, naming the files. */
  readonly message: string
}

/** What GET /datasets shows: the dataset splits, and the files that kept some from the list. */
export interface DatasetListing {
  readonly datasets: DatasetSummary[]
  readonly problems: ProjectProblem[]
}

/** Projects that can also be listed (GET /datasets): what the routes and the CLI are given. */
export interface DatasetCatalog extends DatasetResolver {
  /** Every dataset split (sorted by project name, name, id), and a problem per file left out. */
  list (): Promise<DatasetListing>
  /** One dataset split's summary, or undefined; throws ProjectProblemError as find does. */
  describe (id: string): Promise<DatasetSummary | undefined>
}

/** What a source of Kiln projects implements, and what openCatalog() returns. */
export interface ProjectsCatalog extends DatasetCatalog {
  /** The project folders found, for the service's startup log. */
  projectDirs (): Promise<string[]>
}
