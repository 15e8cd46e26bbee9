import { type DatasetSplitData, type RunIdList, type TaskRunData } from '../format/index.js'

/** What a source found for one run id of a split. */
export type RunLookup =
  | { readonly id: string, readonly status: 'found', readonly run: TaskRunData }
  | { readonly id: string, readonly status: 'missing' }
  /** The run exists but cannot be read as a Kiln task run (mounted projects). */
  | { readonly id: string, readonly status: 'invalid', readonly message: string }

/** Where the task runs of one dataset split come from: the request body or a mounted project. */
export interface DatasetSource {
  /** The dataset split being exported. */
  readonly split: DatasetSplitData
  /**
   * Yield one lookup per id, in the given order (ids may repeat), in batches so that a large
   * split does not pay an await per run; stops early when `signal` aborts.
   */
  runs (ids: RunIdList, signal?: AbortSignal): AsyncIterable<readonly RunLookup[]>
}

/** Finds dataset splits by id in mounted Kiln projects. */
export interface DatasetResolver {
  /**
   * The source for dataset split `id`, or undefined when no mounted project has it. Throws
   * ProjectProblemError when a file it needs cannot be used.
   */
  find (id: string): Promise<DatasetSource | undefined>
}

/** A split name of a dataset split, with how many runs it lists. */
export interface SplitSummary {
  readonly name: string
  readonly run_count: number
}

/** A dataset split of a mounted project, as the listing routes show it. */
export interface DatasetSummary {
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly project: { readonly id: string, readonly name: string }
  readonly task: { readonly id: string, readonly name: string, readonly structured_output: boolean }
  readonly splits: SplitSummary[]
  /** Set (true) when another split file under the mount has the same id: requests for it are refused. */
  readonly ambiguous?: boolean
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

/** Mounted projects that can also be listed (GET /datasets). */
export interface DatasetCatalog extends DatasetResolver {
  list (): Promise<DatasetListing>
  describe (id: string): Promise<DatasetSummary | undefined>
}
