import { type PyDumpable } from './python-json.js'

/** Kiln's FinetuneDataStrategy values at the seed commit. */
export const DATA_STRATEGIES = ['final_only', 'final_and_intermediate'] as const

/** How much of a run's reasoning goes into the training example. */
export type DataStrategy = typeof DATA_STRATEGIES[number]

/** The part of a Kiln TaskOutput the formatter reads. */
export interface TaskOutputData {
  readonly output: string
}

/**
 * The fields of a Kiln TaskRun that the formatter reads (spec 7.4).
 * Sources may hand over the whole parsed object; other fields are ignored.
 */
export interface TaskRunData {
  readonly id: string
  readonly input: string
  readonly output: TaskOutputData
  readonly repaired_output?: TaskOutputData | null
  readonly intermediate_outputs?: Readonly<Record<string, string>> | null
}

/** The part of a Kiln DatasetSplit the formatter reads. */
export interface DatasetSplitData {
  readonly id: string
  readonly name: string
  readonly split_contents: Readonly<Record<string, readonly string[]>>
}

/** Kiln's ModelTrainingData: one example before it is shaped into a provider format. */
export interface TrainingData {
  readonly input: string
  readonly systemMessage: string
  readonly finalOutput: string
  readonly thinking: string | null
  readonly thinkingInstructions: string | null
  readonly thinkingFinalAnswerPrompt: string | null
}

/** A provider format: a description for people and the function that shapes one example. */
export interface FormatGenerator {
  /** One line for `GET /formats` and the OpenAPI description. */
  readonly description: string
  /** True when the format parses the final output as JSON (and so can reject it). */
  readonly parsesOutput: boolean
  /** Shapes one example into the object written as one JSONL line; may throw FormatError. */
  readonly generate: (data: TrainingData, context: GenerateContext) => PyDumpable
}

/** Per-export services a generator may need, injected so the core stays pure and testable. */
export interface GenerateContext {
  /** Kiln's random HF tool-call id: 9 lowercase hex characters. */
  readonly randomToolCallId: () => string
}
