import { Type, type Static } from 'typebox'
import { type ProjectFile, type SplitRecord, type TaskFile } from './kiln/index.js'

/*
 * A dataset split as the listings show it (GET /datasets, GET /datasets/{id}, `kiln-export list`,
 * the client), declared once: the TypeBox schemas are the routes' response schemas (their
 * descriptions are in the OpenAPI document), and the types are derived from them.
 */

/** One split name of a dataset split, with how many runs it lists. */
export const SplitSummarySchema = Type.Object({
  name: Type.String({ description: 'A split name (key of split_contents).' }),
  run_count: Type.Integer({ description: 'How many run ids the split lists.' })
})

/** A dataset split of a source's projects, with its project and task. */
export const DatasetSummarySchema = Type.Object({
  id: Type.String({ description: 'Dataset split id: use it in /datasets/{id}/export.' }),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  project: Type.Object({ id: Type.String(), name: Type.String() }),
  task: Type.Object({
    id: Type.String(),
    name: Type.String(),
    structured_output: Type.Boolean({ description: 'True when the task has an output JSON schema (use a JSON format).' })
  }),
  splits: Type.Array(SplitSummarySchema),
  ambiguous: Type.Optional(Type.Boolean({
    description: 'Present (true) when another dataset split under KILN_PROJECTS_DIR has the same id (a copied project or folder): ' +
      'every request for this id answers 409 KEX_DATASET_AMBIGUOUS until only one is left; `problems` names both files.'
  }))
})

export type SplitSummary = Static<typeof SplitSummarySchema>
export type DatasetSummary = Static<typeof DatasetSummarySchema>

/** The summary of a decoded dataset split with its project and task (without `ambiguous`, which takes the whole listing). */
export function datasetSummary ({ split, project, task }: {
  readonly split: SplitRecord
  readonly project: ProjectFile
  readonly task: TaskFile
}): DatasetSummary {
  return {
    id: split.id,
    name: split.name,
    description: split.description ?? null,
    project: { id: project.id, name: project.name },
    task: { id: task.id, name: task.name, structured_output: task.output_json_schema != null },
    splits: Object.entries(split.split_contents).map(([name, ids]) => ({ name, run_count: ids.length }))
  }
}
