import { FormatError } from './errors.js'
import { type DataStrategy, type TaskRunData, type TrainingData } from './types.js'

/**
 * The final-answer prompt Kiln inserts after the thinking turn (verbatim, no trailing newline).
 * @see https://github.com/Kiln-AI/Kiln/blob/82b6a7fbc6f436c714b6f99723cfd1c812190936/libs/core/kiln_ai/adapters/model_adapters/base_adapter.py
 */
export const COT_FINAL_ANSWER_PROMPT = 'Considering the above, return a final result.'

/** Kiln's message when a thinking run meets a missing or empty thinking instruction. */
export const THINKING_INSTRUCTIONS_REQUIRED =
  'Thinking instructions are required when data_strategy is final_and_intermediate'

/** The per-export settings that shape every example. */
export interface TrainingDataOptions {
  readonly systemMessage: string
  readonly thinkingInstructions: string | null
  readonly dataStrategy: DataStrategy
}

/**
 * Kiln's `has_thinking_training_data()` at the seed: key presence only, so `{"reasoning": ""}` counts
 * (spec section 4; upstream changed this in May 2025).
 */
export function hasThinkingTrainingData (run: TaskRunData): boolean {
  const io = run.intermediate_outputs
  return io != null && (Object.hasOwn(io, 'chain_of_thought') || Object.hasOwn(io, 'reasoning'))
}

/** Kiln's `build_training_data`: repaired output wins; thinking only for `final_and_intermediate`. */
export function buildTrainingData (run: TaskRunData, options: TrainingDataOptions): TrainingData {
  const finalOutput = run.repaired_output != null ? run.repaired_output.output : run.output.output
  let thinking: string | null = null
  let thinkingFinalAnswerPrompt: string | null = null
  const io = run.intermediate_outputs
  if (options.dataStrategy === 'final_and_intermediate' && io != null && hasThinkingTrainingData(run)) {
    // Python's `get("reasoning") or get("chain_of_thought")`: an empty reasoning falls through.
    thinking = (io.reasoning || io.chain_of_thought) ?? null
    thinkingFinalAnswerPrompt = COT_FINAL_ANSWER_PROMPT
    // `not thinking_instructions`: None and "" are both refused, but only for runs with thinking data.
    if (!options.thinkingInstructions) {
      throw new FormatError('THINKING_INSTRUCTIONS_REQUIRED', THINKING_INSTRUCTIONS_REQUIRED, run.id)
    }
  }
  return {
    input: run.input,
    systemMessage: options.systemMessage,
    finalOutput,
    thinking,
    thinkingInstructions: options.thinkingInstructions,
    thinkingFinalAnswerPrompt
  }
}

/** Kiln's `supports_cot()`: all three COT fields present (the empty string counts as present). */
export function supportsCot (data: TrainingData): data is TrainingData & {
  readonly thinking: string
  readonly thinkingInstructions: string
  readonly thinkingFinalAnswerPrompt: string
} {
  return data.thinking !== null && data.thinkingInstructions !== null && data.thinkingFinalAnswerPrompt !== null
}
