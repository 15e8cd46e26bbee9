import { Type, type Static } from 'typebox'
import { PROVIDER_PROFILES } from '../../validate/index.js'
import { DATA_STRATEGIES, PAIR_BY, type DatasetFormat, type FormatAlias, type PreferenceFormat } from '../../format/index.js'
import { DatasetSplitSchema, TaskRunSchema, TaskSchema } from '../../source/kiln/index.js'

/** The longest dataset id accepted (also the router's limit on a path parameter). */
export const DATASET_ID_MAX_LENGTH = 100

/** `:id` of the dataset routes: a Kiln dataset split id. */
export const DatasetParamsSchema = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: DATASET_ID_MAX_LENGTH,
    description: `The dataset split id (12 digits in Kiln); at most ${DATASET_ID_MAX_LENGTH} characters. 150621256807 is the example project's.`,
    examples: ['150621256807']
  })
})

/** `?validate=strict`: validate first, refuse when the report has errors. Unknown parameters are a 400, so a misspelt one never skips the check. */
export const ExportQuerySchema = Type.Object({
  validate: Type.Optional(Type.Enum(['strict'] as const, {
    type: 'string',
    description: 'strict: validate the split first (as POST /datasets/{id}/validate) and refuse with 422 KEX_VALIDATION_REPORT_ERRORS and the report when it has errors.'
  })),
  provider_profile: Type.Optional(Type.Enum(PROVIDER_PROFILES, { type: 'string', description: 'With validate=strict: whose rules to check (default: the format\'s profile).' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'With validate=strict: the profile\'s model (default: its default model).' }))
}, { additionalProperties: false })

/** Swagger UI's first example: the example project's train split, from the mounted folder. */
export const MOUNTED_EXAMPLE = {
  split_name: 'train',
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_and_intermediate',
  system_message: 'Write a one-line joke about the topic.',
  thinking_instructions: 'Brainstorm three angles first.'
}

/** Swagger UI's second example: a small inline export (same id, so it runs with the same URL). */
export const INLINE_EXAMPLE = {
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

/** The first line of MOUNTED_EXAMPLE's export (a test checks it is): Swagger UI's success example. */
export const EXPORT_SUCCESS_EXAMPLE =
  '{"messages": [{"role": "system", "content": "Write a one-line joke about the topic."}, {"role": "user", "content": "bakery"}, {"role": "user", "content": "Brainstorm three angles first."}, {"role": "assistant", "content": "Bread puns: rise, knead, loaf. \'Kneaded\' = \'needed\'."}, {"role": "user", "content": "Considering the above, return a final result."}, {"role": "assistant", "content": "{\\"setup\\": \\"Why did the baker go to therapy?\\", \\"punchline\\": \\"He kneaded it.\\"}"}]}\n'

/**
 * Swagger UI's examples of the formats and strategies that are ours rather than Kiln's (issue 15):
 * an inline request (same id as the others) and the exact line it exports (a test checks it does).
 */
export const ADDED_EXAMPLES = {
  inline_bedrock_conversation: {
    summary: 'Inline: Amazon Bedrock (Nova) conversation record with chain of thought (consecutive user turns share one message)',
    value: {
      split_name: 'train',
      format: 'bedrock_conversation_jsonl',
      data_strategy: 'final_and_intermediate',
      system_message: 'You are a helpful support agent.',
      thinking_instructions: 'Think step by step.',
      dataset_split: { id: '150621256807', name: 'Support replies v1', split_contents: { train: ['238949364214'], test: [] } },
      task_runs: [{
        id: '238949364214',
        input: 'Où est ma commande ?',
        output: { output: 'Elle arrive demain.' },
        intermediate_outputs: { chain_of_thought: 'The customer writes in French, so answer in French.' }
      }]
    },
    line: '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "You are a helpful support agent."}], "messages": [' +
      '{"role": "user", "content": [{"text": "Où est ma commande ?"}, {"text": "Think step by step."}]}, ' +
      '{"role": "assistant", "content": [{"text": "The customer writes in French, so answer in French."}]}, ' +
      '{"role": "user", "content": [{"text": "Considering the above, return a final result."}]}, ' +
      '{"role": "assistant", "content": [{"text": "Elle arrive demain."}]}]}\n'
  },
  inline_reasoning_field: {
    summary: 'Inline: the thinking in reasoning_content beside the answer (reasoning models on Fireworks and Together)',
    value: {
      split_name: 'train',
      format: 'openai_chat_json_schema_jsonl',
      data_strategy: 'final_and_intermediate_reasoning_field',
      system_message: 'Answer with JSON.',
      dataset_split: { id: '150621256807', name: 'Sums v1', split_contents: { train: ['373095127898'], test: [] } },
      task_runs: [{
        id: '373095127898',
        input: 'What is 2+2?',
        output: { output: '{"total":4}' },
        intermediate_outputs: { reasoning: '2 plus 2 is 4.' }
      }]
    },
    line: '{"messages": [{"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "What is 2+2?"}, ' +
      '{"role": "assistant", "content": "{\\"total\\": 4}", "reasoning_content": "2 plus 2 is 4."}]}\n'
  }
} as const

/** Swagger UI's third example: preference pairs from a repair and two rated runs of one input (pair_by rating). */
export const PREFERENCE_EXAMPLE = {
  split_name: 'train',
  format: 'openai_preference_jsonl',
  pair_by: 'rating',
  system_message: 'Reply briefly and kindly.',
  dataset_split: { id: '150621256807', name: 'Support replies v1', split_contents: { train: ['373095127898', '238949364214', '118224402951'] } },
  task_runs: [
    {
      id: '373095127898',
      input: 'Où est ma commande ?',
      output: { output: 'Elle arrive.' },
      repaired_output: { output: 'Bonjour ! Votre commande arrive demain.' }
    },
    { id: '238949364214', input: 'Can I pay later?', output: { output: 'Yes, within 30 days.', rating: { type: 'five_star', value: 5 } } },
    { id: '118224402951', input: 'Can I pay later?', output: { output: 'No.', rating: { type: 'five_star', value: 2 } } }
  ]
}

/** The first line of PREFERENCE_EXAMPLE's export in each preference format (a test checks each): the 200 examples. */
export const PREFERENCE_LINE_EXAMPLES = {
  openai_preference_jsonl: '{"input": {"messages": [{"role": "system", "content": "Reply briefly and kindly."}, {"role": "user", "content": "Où est ma commande ?"}]}, ' +
    '"preferred_output": [{"role": "assistant", "content": "Bonjour ! Votre commande arrive demain."}], "non_preferred_output": [{"role": "assistant", "content": "Elle arrive."}]}\n',
  huggingface_preference_jsonl: '{"prompt": [{"role": "system", "content": "Reply briefly and kindly."}, {"role": "user", "content": "Où est ma commande ?"}], ' +
    '"chosen": [{"role": "assistant", "content": "Bonjour ! Votre commande arrive demain."}], "rejected": [{"role": "assistant", "content": "Elle arrive."}]}\n',
  vertex_gemini_preference: '{"system_instruction": {"parts": [{"text": "Reply briefly and kindly."}]}, "contents": [{"role": "user", "parts": [{"text": "Où est ma commande ?"}]}], ' +
    '"completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "Bonjour ! Votre commande arrive demain."}]}}, ' +
    '{"score": 0, "completion": {"role": "model", "parts": [{"text": "Elle arrive."}]}}]}\n'
} as const satisfies Record<PreferenceFormat, string>

/** An OpenAI function (tool) definition, sent with each example of the formats that carry tools. */
const ToolDefinitionSchema = Type.Object({
  type: Type.Optional(Type.Literal('function')),
  function: Type.Object({
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Object({}, { additionalProperties: true }))
  }, { additionalProperties: true })
}, { additionalProperties: true, description: 'An OpenAI tool definition: {"type": "function", "function": {"name", "description", "parameters"}}.' })

/** A format name the request may use: the canonical ones (Kiln's six and ours), plus Kiln's later aliases when switched on. */
export type FormatName = DatasetFormat | FormatAlias

/** The fields of an export request (shared with the validation request, which adds its own). */
export function exportRequestProperties (formats: readonly FormatName[]) {
  return {
    split_name: Type.String({ description: 'Which split of the dataset to export (a key of split_contents, case-sensitive).' }),
    format: Type.Enum(formats, { type: 'string', description: `Output format: one of ${formats.join(', ')}.` }),
    data_strategy: Type.Optional(Type.Enum(DATA_STRATEGIES, {
      type: 'string',
      default: 'final_only',
      description: `One of: ${DATA_STRATEGIES.join(', ')}. ` + 'final_only: system, user, answer. final_and_intermediate: adds the chain-of-thought turns (Kiln\'s seed layout) for runs ' +
        'with thinking data. final_and_intermediate_r1_compatible: one assistant message `"<think>\\n{thinking}\\n</think>\\n\\n{answer}"` (the tags are literal text); every run ' +
        'needs non-blank thinking, thinking instructions are refused, and the three formats that parse the answer always refuse it (as Kiln does). ' +
        'two_message_cot: one user message with the input in <user_input> tags and the thinking instructions, then the thinking, the final-answer ' +
        'prompt and the answer; every run needs thinking data and thinking_instructions must not be null. ' +
        'final_and_intermediate_reasoning_field (ours, for reasoning models on Fireworks and Together): the R1 rules, but the final assistant message is ' +
        '`{"role": "assistant", "content": answer, "reasoning_content": thinking}` and the JSON formats parse the answer alone (a JSON object); ' +
        'OpenAI formats only (a 400 for the others). Kiln checks each run in split order, so an empty split is an empty file for every strategy.'
    })),
    system_message: Type.String({ description: 'The system message of every example (may be empty).' }),
    thinking_instructions: Type.Optional(Type.Union([Type.String(), Type.Null()], {
      description: 'final_and_intermediate: required (non-empty) when a run has thinking data. two_message_cot: required (not null; "" is allowed). ' +
        'final_and_intermediate_r1_compatible and final_and_intermediate_reasoning_field: refused unless null or "". final_only: ignored.'
    })),
    include_tool_calls: Type.Optional(Type.Boolean({
      default: true,
      description: 'Export the tool calls and tool responses of each run\'s saved trace right after the user message, as Kiln does. false: leave the trace out (the seed\'s behaviour). ' +
        'bedrock_conversation_jsonl refuses runs whose trace has tool calls (422 KEX_TOOL_CALLS_NOT_SUPPORTED: Nova fine-tuning takes no tools): send false.'
    })),
    tools: Type.Optional(Type.Array(ToolDefinitionSchema, {
      description: 'Function definitions for every line of the OpenAI formats ("tools") and Vertex ("functionDeclarations"); the HF and Bedrock formats carry none. ' +
        'Without it each line gets the tools of its run\'s run config, as Kiln does (Kiln\'s built-in tools are resolved; any other tool id is a 422 asking for this field). [] writes none.'
    })),
    // No schema `default`: ajv would fill it in, and pair_by is refused with the SFT formats.
    pair_by: Type.Optional(Type.Enum(PAIR_BY, {
      type: 'string',
      description: 'Default: repair. Preference formats only (openai_preference_jsonl, huggingface_preference_jsonl, vertex_gemini_preference; a 400 with any other). ' +
        'repair: each run whose repaired_output differs from its output gives one pair (repaired preferred), at the run\'s place in split order. ' +
        'rating: those pairs, plus one per input text: among runs with the same input and a comparable rating (five_star, pass_fail, pass_fail_critical ' +
        'in range; custom never), normalised as Kiln does, the highest-rated run\'s final answer (its repaired output if any) is preferred over the ' +
        'lowest-rated\'s; ties go to the first run in split order; no pair when highest equals lowest or the answers are the same text; the line goes at ' +
        'the place of the input\'s first run, after that run\'s repair pair. Runs in no pair are skipped and counted (X-Export-Skipped-Run-Count); ' +
        'a split with no pair is a 422 KEX_NO_PREFERENCE_PAIRS. Preference formats take data_strategy final_only only.'
    })),
    dataset_split: Type.Optional(DatasetSplitSchema),
    task_runs: Type.Optional(Type.Array(TaskRunSchema, { description: 'The runs the split names (extra runs are fine).' })),
    task: Type.Optional(TaskSchema)
  }
}

/**
 * `POST /datasets/:id/export`, for the given accepted format names. Top-level keys are strict (a
 * misspelt key is a 400); the Kiln objects inside accept any extra field.
 */
export function exportRequestSchema (formats: readonly FormatName[]) {
  return Type.Object(exportRequestProperties(formats), {
    additionalProperties: false,
    description: 'Export parameters, plus dataset_split and task_runs for an inline export. Without them the dataset is looked up in the mounted Kiln projects.',
    // Named examples (Swagger UI's drop-down shows the names), not example1/example2.
    'x-examples': {
      mounted_example_project: { summary: 'Mounted: the example project\'s train split (Jokes v1), with chain of thought', value: MOUNTED_EXAMPLE },
      inline_support_replies: { summary: 'Inline: two support replies sent in the body', value: INLINE_EXAMPLE },
      ...Object.fromEntries(Object.entries(ADDED_EXAMPLES).map(([name, { summary, value }]) => [name, { summary, value }])),
      inline_preference_pairs: { summary: 'Inline: preference (DPO) pairs from a repair and two rated runs (pair_by rating)', value: PREFERENCE_EXAMPLE }
    }
  })
}

export type ExportRequest = Static<ReturnType<typeof exportRequestSchema>>
