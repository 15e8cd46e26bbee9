import { Type, type Static } from 'typebox'
import { DATA_STRATEGIES, DATASET_FORMATS } from '../../format/index.js'
import { DatasetSplitSchema, TaskRunSchema, TaskSchema } from '../../source/kiln-schemas.js'

/** `:id` of the dataset routes: a Kiln dataset split id. */
export const DatasetParamsSchema = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'The dataset split id (12 digits in Kiln); at most 100 characters. 150621256807 is the example project\'s.',
    examples: ['150621256807']
  })
})

/** Swagger UI's first example: the example project's train split, from the mounted folder. */
const MOUNTED_EXAMPLE = {
  split_name: 'train',
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_and_intermediate',
  system_message: 'Write a one-line joke about the topic.',
  thinking_instructions: 'Brainstorm three angles first.'
}

/** Swagger UI's second example: a small inline export (same id, so it runs with the same URL). */
const INLINE_EXAMPLE = {
  split_name: 'train',
  format: 'openai_chat_jsonl',
  data_strategy: 'final_and_intermediate',
  system_message: 'You are a helpful support agent. Reply briefly and kindly.',
  thinking_instructions: 'Think step by step, explaining your reasoning.',
  dataset_split: {
    id: '150621256807',
    name: 'Support replies v1',
    split_contents: { train: ['373095127898', '238949364214'], test: [] }
  },
  task_runs: [
    {
      id: '373095127898',
      input: 'My order #1234 has not arrived yet.',
      output: { output: 'Sorry about the wait! Your parcel ships tomorrow; here is the tracking link.' }
    },
    {
      id: '238949364214',
      input: 'Où est ma commande ?',
      output: { output: 'Elle arrive demain.' },
      repaired_output: { output: 'Bonjour ! Votre commande arrive demain. Merci de votre patience.' },
      intermediate_outputs: { chain_of_thought: 'The customer writes in French, so answer in French.' }
    }
  ]
}

/**
 * `POST /datasets/:id/export`. Top-level keys are strict (a misspelt key is a 400); the Kiln
 * objects inside accept any extra field.
 */
export const ExportRequestSchema = Type.Object({
  split_name: Type.String({ description: 'Which split of the dataset to export (a key of split_contents, case-sensitive).' }),
  format: Type.Enum(DATASET_FORMATS, { description: `Output format: one of ${DATASET_FORMATS.join(', ')}.` }),
  data_strategy: Type.Optional(Type.Enum(DATA_STRATEGIES, {
    default: 'final_only',
    description: 'final_only: system, user, answer. final_and_intermediate: adds the chain-of-thought turns for runs with thinking data.'
  })),
  system_message: Type.String({ description: 'The system message of every example (may be empty).' }),
  thinking_instructions: Type.Optional(Type.Union([Type.String(), Type.Null()], {
    description: 'Required (non-empty) with final_and_intermediate when a run has thinking data; ignored otherwise.'
  })),
  dataset_split: Type.Optional(DatasetSplitSchema),
  task_runs: Type.Optional(Type.Array(TaskRunSchema, { description: 'The runs the split names (extra runs are fine).' })),
  task: Type.Optional(TaskSchema)
}, {
  additionalProperties: false,
  description: 'Export parameters, plus dataset_split and task_runs for an inline export. Without them the dataset is looked up in the mounted Kiln projects.',
  examples: [MOUNTED_EXAMPLE, INLINE_EXAMPLE]
})

export type ExportRequest = Static<typeof ExportRequestSchema>
