import { DatasetIdMismatchError, DatasetNotFoundError, IncompleteInlineBodyError } from '../errors.js'
import { type TaskRunData, type DatasetSplitData } from '../format/index.js'
import { inlineSource } from '../source/inline.js'
import { type DatasetResolver, type DatasetSource } from '../source/types.js'

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
export async function resolveSource (id: string, body: InlineParts, resolver: DatasetResolver | undefined): Promise<DatasetSource> {
  if (body.dataset_split !== undefined || body.task_runs !== undefined || body.task !== undefined) {
    if (body.dataset_split === undefined || body.task_runs === undefined) throw new IncompleteInlineBodyError()
    if (body.dataset_split.id !== id) throw new DatasetIdMismatchError(body.dataset_split.id, id)
    return inlineSource(body.dataset_split, body.task_runs)
  }
  const source = await resolver?.find(id)
  if (source === undefined) {
    throw new DatasetNotFoundError(resolver === undefined
      ? `Dataset split ${id} was not sent inline and no Kiln projects are mounted: send dataset_split and task_runs in the body`
      : `Dataset split ${id} not found in the mounted Kiln projects`)
  }
  return source
}
