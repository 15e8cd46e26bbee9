import { Ajv, type ValidateFunction } from 'ajv'
import { type TSchema } from 'typebox'
import { type DatasetSplitData, type TaskRunData } from '../../format/index.js'
import { describeJsonPath, nestingTooDeepMessage, tooDeepAt } from '../../json-depth.js'
import { type RunLookup } from '../types.js'
import { CompactRunIds } from './compact-run-ids.js'
import {
  DatasetSplitFileSchema,
  ProjectFileSchema,
  TaskFileSchema,
  TaskRunSchema,
  firstSchemaError,
  type DatasetSplitFile,
  type ProjectFile,
  type TaskFile
} from './schemas.js'
import { parseSplitFile } from './split-file.js'

/*
 * Parsed JSON (or a file's bytes) → typed Kiln records, whatever the file came from. Each check
 * stops at the first schema error and says it (`/name must be string`); the caller puts its own
 * name for the file around that. Nothing here reads a file or knows a path.
 */

/** A decoded record, or why the value is not one: `detail` is the first error, for a message. */
export type Decoded<T> = { readonly record: T } | { readonly detail: string }

/** A dataset_split.kiln as held in memory: its id lists may be compact (decodeSplitFile). */
export type SplitRecord = Omit<DatasetSplitFile, 'split_contents'> & DatasetSplitData

const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false })
function validator<T> (schema: TSchema): ValidateFunction<T> {
  return ajv.compile(schema) as ValidateFunction<T>
}
const isProject = validator<ProjectFile>(ProjectFileSchema)
const isTask = validator<TaskFile>(TaskFileSchema)
const isSplit = validator<DatasetSplitFile>(DatasetSplitFileSchema)
const isTaskRun = validator<TaskRunData>(TaskRunSchema)

function decodeWith<T> (check: ValidateFunction<T>, value: unknown): Decoded<T> {
  return check(value) ? { record: value } : { detail: firstSchemaError(check.errors) }
}

/** A parsed project.kiln: the id and name listings show. */
export function decodeProject (value: unknown): Decoded<ProjectFile> {
  return decodeWith(isProject, value)
}

/** A parsed task.kiln: the id, name and output schema listings show. */
export function decodeTask (value: unknown): Decoded<TaskFile> {
  return decodeWith(isTask, value)
}

/**
 * A dataset_split.kiln from its bytes, with its id lists kept compact (parseSplitFile): the schema
 * is checked on the rest of the file, the lists hold only strings by construction.
 */
export function decodeSplitFile (bytes: Buffer): Decoded<SplitRecord> {
  let value: unknown
  try {
    value = parseSplitFile(bytes)
  } catch (err) {
    return { detail: `not valid JSON: ${(err as Error).message}` }
  }
  if (typeof value !== 'object' || value === null) return { detail: 'not a JSON object' }
  const { split_contents: lists } = value as { split_contents?: unknown }
  const compact = typeof lists === 'object' && lists !== null && Object.values(lists).every((ids) => ids instanceof CompactRunIds)
  const checked = compact ? { ...value, split_contents: {} } : value
  if (!isSplit(checked)) return { detail: firstSchemaError(isSplit.errors) }
  return { record: compact ? value as SplitRecord : checked }
}

/** Run `id` whose task_run.kiln cannot be used, for a source's own failures too (`cannot be read (EACCES)`). */
export function invalidRunFile (id: string, predicate: string): RunLookup {
  return { id, status: 'invalid', message: `Task run ${id}: task_run.kiln ${predicate}` }
}

/**
 * The text of run `id`'s task_run.kiln → its lookup: found, or invalid with a message naming the
 * run (never a path). Checks, in order: JSON, the nesting limit (before anything walks it
 * recursively), the schema, and that the file holds run `id` (Kiln finds runs by the id inside).
 */
export function decodeTaskRunFile (id: string, text: string): RunLookup {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return invalidRunFile(id, `is not valid JSON (${(err as Error).message})`)
  }
  // Before the schema check and the formatter, which walk it recursively.
  const deep = tooDeepAt(value)
  if (deep !== undefined) return { id, status: 'invalid', message: `Task run ${id}: ${nestingTooDeepMessage(describeJsonPath('task_run.kiln', deep))}` }
  if (!isTaskRun(value)) {
    return invalidRunFile(id, `is not a valid Kiln task run (${firstSchemaError(isTaskRun.errors)})`)
  }
  // Kiln finds runs by the id inside the file; a folder holding another run is not this one.
  if (value.id !== id) return { id, status: 'invalid', message: `Task run ${id}: its folder holds run ${value.id}` }
  return { id, status: 'found', run: value }
}
