import { DatasetIdMismatchError, DatasetNotFoundError, IncompleteInlineBodyError } from '../errors.js'
import { type TaskRunData, type DatasetSplitData } from '../format/index.js'
import { inlineSource, type DatasetCatalog, type DatasetSource } from '../source/index.js'

/** The inline part of an export or validation body: the Kiln objects, when sent. */
export interface InlineParts {
  readonly dataset_split?: DatasetSplitData
  readonly task_runs?: readonly TaskRunData[]
  readonly task?: unknown
}

/**
 * The runs of dataset split `id`: from the body when it holds dataset_split and task_runs,
 * otherwise from the mounted projects. Answers 400 for half an inline body or an id mismatch,
 * 404 for an unknown dataset.
 */
export async function resolveSource (id: string, body: InlineParts, resolver: DatasetCatalog | undefined): Promise<DatasetSource> {
  if (body.dataset_split !== undefined || body.task_runs !== undefined || body.task !== undefined) {
    if (body.dataset_split === undefined || body.task_runs === undefined) throw new IncompleteInlineBodyError()
    if (body.dataset_split.id !== id) throw new DatasetIdMismatchError(body.dataset_split.id, id)
    return inlineSource(body.dataset_split, body.task_runs, hasOutputSchema(body.task))
  }
  const source = await resolver?.find(id)
  if (source === undefined) throw await datasetNotFound(id, resolver, true)
  return source
}

/** True when an inline `task` (a Kiln Task) has an output JSON schema, as task.kiln's `output_json_schema`. */
function hasOutputSchema (task: unknown): boolean {
  return typeof task === 'object' && task !== null && (task as { output_json_schema?: unknown }).output_json_schema != null
}

/**
 * A 404 for an unknown dataset split id that says how to find a right one: `GET /datasets` and
 * a few of its ids, or that nothing is mounted (then, for an export, how to send the data inline).
 * Listing costs what `GET /datasets` costs, and only on this error path.
 */
export async function datasetNotFound (id: string, catalog: DatasetCatalog | undefined, inline: boolean): Promise<InstanceType<typeof DatasetNotFoundError>> {
  const datasets = catalog === undefined ? [] : (await catalog.list()).datasets
  const orInline = inline ? '; send dataset_split and task_runs in the body to export inline' : ''
  if (datasets.length === 0) {
    return new DatasetNotFoundError(`Dataset split ${id} not found: no Kiln projects are mounted (KILN_PROJECTS_DIR)${orInline}`)
  }
  const shown = datasets.slice(0, 3).map((d) => `${d.id} "${d.name}"`).join(', ')
  const more = datasets.length > 3 ? `, and ${datasets.length - 3} more` : ''
  return new DatasetNotFoundError(`Dataset split ${id} not found in the mounted Kiln projects: GET /datasets lists the ${datasets.length} mounted (${shown}${more})`)
}
