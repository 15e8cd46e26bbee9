/** Public surface of the pure format core: no HTTP, no disk, no process state. */
export { FormatError, splitNotFoundError, type FormatErrorCode } from './errors.js'
export { checkExportOptions, createLineChecker, createLineFormatter, exportFileName, kilnToolCallId, type LineFormatterOptions } from './line-formatter.js'
export { BUILT_IN_TOOLS, runToolIds, toolSetKey } from './kiln-tools.js'
export {
  R1_INSTRUCTIONS_NOT_SUPPORTED,
  R1_THINKING_DATA_REQUIRED,
  TWO_MESSAGE_COT_INSTRUCTIONS_REQUIRED,
  THINKING_DATA_REQUIRED,
  buildTrainingChat,
  thinkingTrainingData,
  toolMessagesOf,
  trainingChatFromData,
  type TrainingChatOptions
} from './training-chat.js'
export { DATASET_FORMATS, FORMATS, FORMAT_ALIASES, FORMAT_NAMES, isDatasetFormat, resolveFormat, type DatasetFormat, type FormatAlias } from './registry.js'
export {
  COT_FINAL_ANSWER_PROMPT,
  THINKING_INSTRUCTIONS_REQUIRED,
  buildTrainingData,
  hasThinkingTrainingData,
  supportsCot
} from './training-data.js'
export {
  DATA_STRATEGIES,
  type ChatMessage,
  type DataStrategy,
  type DatasetSplitData,
  type RunIdList,
  type FormatGenerator,
  type TaskRunData,
  type TraceMessage,
  type TrainingChat,
  type TrainingData
} from './types.js'
