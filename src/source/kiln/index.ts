/*
 * Kiln record decoding: what a Kiln file must hold to be used, for every source. It reads no file
 * and knows no path, so an inline body, the mounted folder (../mounted/) and a future git or
 * object-store source all check Kiln data by the same rules and word their problems the same way.
 *
 * How a source uses it:
 * - project.kiln, task.kiln: JSON.parse the bytes, then decodeProject / decodeTask;
 * - dataset_split.kiln: decodeSplitFile(bytes), which keeps a huge split's ids compact, off the heap;
 * - task_run.kiln: decodeTaskRunFile(id, text) is the RunLookup that DatasetSource.runs() yields;
 *   a run file that cannot be read at all is invalidRunFile(id, why);
 * - a `{ detail }` answer goes into invalidFile(root, path, what, detail) (../project-problem.ts),
 *   which the HTTP layer answers 422 and the listing reports;
 * - summaries of decoded records: datasetSummary (../summary.ts).
 * The TypeBox schemas are public too: the HTTP request schema embeds TaskRunSchema,
 * DatasetSplitSchema and TaskSchema, so an inline body is checked as a file is.
 */

export {
  DatasetSplitFileSchema,
  DatasetSplitSchema,
  ProjectFileSchema,
  TaskFileSchema,
  TaskOutputSchema,
  TaskRunSchema,
  TaskSchema,
  firstSchemaError,
  type DatasetSplitBody,
  type DatasetSplitFile,
  type ProjectFile,
  type TaskFile,
  type TaskRunBody
} from './schemas.js'
export {
  decodeProject,
  decodeSplitFile,
  decodeTask,
  decodeTaskRunFile,
  invalidRunFile,
  type Decoded,
  type SplitRecord
} from './records.js'
export { CompactRunIds } from './compact-run-ids.js'
