/** Public surface of the pure format core: no HTTP, no disk, no process state. */
export { FormatError, splitNotFoundError, type FormatErrorCode } from './errors.js'
export { checkExportOptions, createLineChecker, createLineFormatter, exportFileName, kilnToolCallId, type LineFormatterOptions } from './line-formatter.js'
export { BUILT_IN_TOOLS, runToolIds, toolSetKey } from './kiln-tools.js'
export { DATA_STRATEGIES, STRATEGIES, isDataStrategy, type DataStrategy, type StrategyFacts } from './strategies.js'
export {
  COT_FINAL_ANSWER_PROMPT,
  R1_INSTRUCTIONS_NOT_SUPPORTED,
  R1_THINKING_DATA_REQUIRED,
  TWO_MESSAGE_COT_INSTRUCTIONS_REQUIRED,
  THINKING_DATA_REQUIRED,
  THINKING_INSTRUCTIONS_REQUIRED,
  buildTrainingChat,
  buildTrainingData,
  hasThinkingTrainingData,
  supportsCot,
  thinkingTrainingData,
  toolMessagesOf,
  trainingChatFromData,
  type TrainingChatOptions
} from './training-chat.js'
export { DATASET_FORMATS, FORMATS, FORMAT_ALIASES, FORMAT_NAMES, isDatasetFormat, isPreferenceFormat, resolveFormat, type DatasetFormat, type FormatAlias, type PreferenceFormat } from './registry.js'
export {
  PAIR_BY,
  PairPlanner,
  createPairFormatter,
  finalAnswer,
  makesRepairPair,
  normalizedRating,
  ratingPairOf,
  repairPair,
  repairPairOf,
  type PairBy,
  type PairLineOptions,
  type PairSource,
  type RatingPair
} from './preference-pairs.js'
export {
  PROVIDER_PROFILES,
  type ChatMessage,
  type DatasetSplitData,
  type LineShape,
  type ProviderProfileName,
  type RunIdList,
  type FormatGenerator,
  type PreferenceFormatGenerator,
  type PreferencePair,
  type SftFormatGenerator,
  type TaskRunData,
  type TraceMessage,
  type TrainingChat,
  type TrainingData
} from './types.js'
