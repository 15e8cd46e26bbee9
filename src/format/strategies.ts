/*
 * The data strategies and what the exporter knows about each, in one table. Adding a strategy
 * means an entry here and a case in buildTrainingChat (training-chat.ts, an exhaustive switch):
 * the compiler asks for both. Formats that take every strategy list DATA_STRATEGIES.
 */

/** What the exporter knows about one data strategy, besides how it builds the chat. */
export interface StrategyFacts {
  /** The last part of Kiln's download file name: `cot` for Kiln's THINKING_DATA_STRATEGIES, else `no-cot`. */
  readonly fileNamePart: 'cot' | 'no-cot'
}

/**
 * Every data strategy: Kiln's two at the seed commit (byte-identical to it), then the two Kiln added
 * later (spec section 10): R1/QwQ-style `<think>` answers and the two-message chain of thought.
 */
export const STRATEGIES = {
  final_only: { fileNamePart: 'no-cot' },
  final_and_intermediate: { fileNamePart: 'cot' },
  final_and_intermediate_r1_compatible: { fileNamePart: 'cot' },
  two_message_cot: { fileNamePart: 'cot' }
} as const satisfies Record<string, StrategyFacts>

/** How much of a run's reasoning goes into the training example. */
export type DataStrategy = keyof typeof STRATEGIES

/** The strategy names, in Kiln's order (the HTTP enum, the CLI help). */
export const DATA_STRATEGIES = Object.keys(STRATEGIES) as readonly DataStrategy[]

/** True when `name` is one of the strategies (exact, as in Kiln). */
export function isDataStrategy (name: string): name is DataStrategy {
  return Object.hasOwn(STRATEGIES, name)
}
