import { Type, type Static } from 'typebox'

/*
 * Kiln objects, inline in a request or read from a mounted project. Only the fields the formatter reads are checked, with the
 * spec's types; every other field is allowed, so files from newer Kiln versions still load (as
 * pydantic ignores unknown keys). `additionalProperties: {...}` is used for maps instead of
 * patternProperties so the OpenAPI document stays readable.
 */

const open = { additionalProperties: true } as const

/** The run config of a TaskOutput's source: a `kiln_agent` config lists the tools the run could call. */
const RunConfigSchema = Type.Object({
  type: Type.Optional(Type.String({ description: '`kiln_agent` (the default) or `mcp`.' })),
  tools_config: Type.Optional(Type.Union([
    Type.Object({ tools: Type.Optional(Type.Array(Type.String(), { description: 'Kiln tool ids, e.g. kiln_tool::add_numbers.' })) }, open),
    Type.Null()
  ]))
}, { ...open, description: 'How the output was produced; its tools fill the lines\' tools when the request sends none.' })

/** Kiln TaskOutput (`output`, and the tools of `source.run_config`, are read). */
export const TaskOutputSchema = Type.Object({
  output: Type.String({ description: 'The output text: plaintext, or JSON text for structured tasks.' }),
  source: Type.Optional(Type.Union([
    Type.Object({ run_config: Type.Optional(Type.Union([RunConfigSchema, Type.Null()])) }, open),
    Type.Null()
  ]))
}, { ...open, description: 'A Kiln TaskOutput; `output` and `source.run_config.tools_config.tools` are read.' })

/** Kiln TaskRun (`task_run.kiln`). */
export const TaskRunSchema = Type.Object({
  id: Type.String({ minLength: 1, description: 'The run id (12 digits in Kiln).' }),
  input: Type.String({ description: 'The run input, passed through verbatim.' }),
  output: TaskOutputSchema,
  repaired_output: Type.Optional(Type.Union([TaskOutputSchema, Type.Null()], {
    description: 'A fixed output; when present it is the training target instead of `output`.'
  })),
  intermediate_outputs: Type.Optional(Type.Union([
    Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } }),
    Type.Null()
  ], { description: '`reasoning` and/or `chain_of_thought` text; reasoning wins when both are set.' })),
  trace: Type.Optional(Type.Union([
    Type.Array(Type.Object({ role: Type.String() }, { additionalProperties: true })),
    Type.Null()
  ], { description: 'The saved conversation (OpenAI chat messages): its tool calls and tool responses are exported unless include_tool_calls is false.' })),
  parent_task_run_id: Type.Optional(Type.Union([Type.String(), Type.Null()], {
    description: 'The run this one continues (multi-turn). Kiln leaves parents out of fine-tune data; we export them and the validation report warns.'
  })),
  eval_source: Type.Optional(Type.Unknown({
    description: 'Set on runs an eval generated. Kiln leaves them out of fine-tune data; we export them and the validation report warns.'
  }))
}, { additionalProperties: true, description: 'A Kiln TaskRun exactly as in task_run.kiln; unread fields are allowed.' })

/** Kiln DatasetSplit (`dataset_split.kiln`). */
export const DatasetSplitSchema = Type.Object({
  id: Type.String({ minLength: 1, description: 'Must equal the dataset id in the URL.' }),
  name: Type.String({ description: 'Used in the download file name.' }),
  split_contents: Type.Unsafe<Record<string, string[]>>({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description: 'Split name to task-run ids, in export order.'
  })
}, { additionalProperties: true, description: 'A Kiln DatasetSplit exactly as in dataset_split.kiln.' })

/** Kiln Task (`task.kiln`); not read by the formatter, accepted for completeness. */
export const TaskSchema = Type.Object({}, {
  additionalProperties: true,
  description: 'The Kiln Task the split belongs to (optional; not used by the formatter).'
})

export type TaskRunBody = Static<typeof TaskRunSchema>
export type DatasetSplitBody = Static<typeof DatasetSplitSchema>

/** The fields of project.kiln shown in listings. */
export const ProjectFileSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.String()
}, { additionalProperties: true })

/** The fields of task.kiln shown in listings. */
export const TaskFileSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.String(),
  output_json_schema: Type.Optional(Type.Union([Type.String(), Type.Null()]))
}, { additionalProperties: true })

/** The fields of dataset_split.kiln shown in listings. */
export const DatasetSplitFileSchema = Type.Object({
  ...DatasetSplitSchema.properties,
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  filter: Type.Optional(Type.Union([Type.String(), Type.Null()]))
}, { additionalProperties: true })

export type ProjectFile = Static<typeof ProjectFileSchema>
export type TaskFile = Static<typeof TaskFileSchema>
export type DatasetSplitFile = Static<typeof DatasetSplitFileSchema>

/** The first error ajv found, for a message: `/input must be string`. */
export function firstSchemaError (errors: ReadonlyArray<{ instancePath: string, message?: string }> | null | undefined): string {
  const error = errors?.[0]
  return error === undefined ? 'unexpected shape' : `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`
}
