/*
 * The data strategies and what the exporter knows about each, in one table. Adding a strategy
 * means an entry here and a case in buildTrainingChat (training-chat.ts, an exhaustive switch):
 * the compiler asks for both. Formats that take every strategy list DATA_STRATEGIES; formats with no
 * field for the thinking beside the answer list TEXT_STRATEGIES.
 */

/** What the exporter knows about one data strategy, besides how it builds the chat. */
export interface StrategyFacts {
  /** The last part of Kiln's download file name: `cot` for Kiln's THINKING_DATA_STRATEGIES, else `no-cot`. */
  readonly fileNamePart: 'cot' | 'no-cot'
  /**
   * True when the thinking travels in a field of the final message (`reasoning_content`) rather than
   * in the message text: only formats with such a field (the OpenAI-shaped ones) can take it.
   */
  readonly reasoningField: boolean
}

/**
 * Every data strategy: Kiln's two at the seed commit (byte-identical to it), then the two Kiln added
 * later (spec section 10): R1/QwQ-style `<think>` answers and the two-message chain of thought; then
 * ours (issue 15, not in Kiln): the R1 rules with the thinking in `reasoning_content`, the field
 * Fireworks and Together train reasoning models on.
 */
export const STRATEGIES = {
  final_only: { fileNamePart: 'no-cot', reasoningField: false },
  final_and_intermediate: { fileNamePart: 'cot', reasoningField: false },
  final_and_intermediate_r1_compatible: { fileNamePart: 'cot', reasoningField: false },
  two_message_cot: { fileNamePart: 'cot', reasoningField: false },
  final_and_intermediate_reasoning_field: { fileNamePart: 'cot', reasoningField: true }
} as const satisfies Record<string, StrategyFacts>

/** How much of a run's reasoning goes into the training example. */
export type DataStrategy = keyof typeof STRATEGIES

/** The strategy names, in Kiln's order (the HTTP enum, the CLI help). */
export const DATA_STRATEGIES = Object.keys(STRATEGIES) as readonly DataStrategy[]

/** The strategies that keep all thinking in message text: what formats without a reasoning field take. */
export const TEXT_STRATEGIES: readonly DataStrategy[] = DATA_STRATEGIES.filter((name) => !STRATEGIES[name].reasoningField)

/** True when `name` is one of the strategies (exact, as in Kiln). */
export function isDataStrategy (name: string): name is DataStrategy {
  return Object.hasOwn(STRATEGIES, name)
}
