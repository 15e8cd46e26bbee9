/** Small, readable Kiln objects for tests that do not need the conformance fixtures. */

export interface RunOptions {
  readonly output?: string
  readonly repaired?: string
  readonly intermediate?: Record<string, string> | null
  readonly input?: string
  readonly trace?: unknown[]
  /** Kiln tool ids of the output's `kiln_agent` run config. */
  readonly tools?: string[]
  /** The output's Kiln rating ({type, value, requirement_ratings}). */
  readonly rating?: { readonly type: string, readonly value: number | null }
  /** Any other fields of the run (eval_source, parent_task_run_id, ...). */
  readonly extra?: Record<string, unknown>
}

function source (tools: string[] | undefined): Record<string, unknown> | null {
  if (tools === undefined) return null
  return {
    type: 'synthetic',
    properties: { model_name: 'gpt_4o', model_provider: 'openai', adapter_name: 'kiln_openai_compatible_adapter' },
    run_config: { type: 'kiln_agent', model_name: 'gpt_4o', model_provider_name: 'openai', prompt_id: 'simple_prompt_builder', tools_config: { tools } }
  }
}

/** A task run as Kiln writes it (with envelope fields the formatter ignores). */
export function kilnRun (id: string, options: RunOptions = {}): Record<string, unknown> {
  return {
    v: 1,
    id,
    created_at: '2025-02-04T10:40:06.823314',
    created_by: 'jane',
    input: options.input ?? `input of ${id}`,
    input_source: { type: 'human', properties: { created_by: 'jane' } },
    output: { v: 1, id: `o${id}`, path: null, output: options.output ?? `output of ${id}`, source: source(options.tools), rating: options.rating === undefined ? null : { ...options.rating, requirement_ratings: {} }, model_type: 'task_output' },
    repair_instructions: options.repaired === undefined ? null : 'fix it',
    repaired_output: options.repaired === undefined ? null : { v: 1, id: `r${id}`, path: null, output: options.repaired, model_type: 'task_output' },
    intermediate_outputs: options.intermediate ?? null,
    tags: [],
    ...(options.trace === undefined ? {} : { trace: options.trace }),
    ...options.extra,
    model_type: 'task_run'
  }
}

/** A dataset split as Kiln writes it. */
export function kilnSplit (id: string, splitContents: Record<string, string[]>, name = 'Test split'): Record<string, unknown> {
  return {
    v: 1,
    id,
    created_at: '2025-02-04T10:46:47.960533',
    created_by: 'jane',
    name,
    description: null,
    splits: [],
    split_contents: splitContents,
    filter: null,
    model_type: 'dataset_split'
  }
}

/** An inline export body for the given runs, all in split `train`. */
export function inlineBody (runs: Array<Record<string, unknown>>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    split_name: 'train',
    format: 'openai_chat_jsonl',
    system_message: 'Be brief.',
    dataset_split: kilnSplit('100000000001', { train: runs.map((r) => String(r.id)) }),
    task_runs: runs,
    ...overrides
  }
}
