/** Public surface of the pure format core: no HTTP, no disk, no process state. */
export { FormatError, type FormatErrorCode } from './errors.js'
export { createLineFormatter, exportFileName, kilnToolCallId, type LineFormatterOptions } from './line-formatter.js'
export { DATASET_FORMATS, FORMATS, isDatasetFormat, type DatasetFormat } from './registry.js'
export {
  COT_FINAL_ANSWER_PROMPT,
  THINKING_INSTRUCTIONS_REQUIRED,
  buildTrainingData,
  hasThinkingTrainingData,
  supportsCot
} from './training-data.js'
export {
  DATA_STRATEGIES,
  type DataStrategy,
  type DatasetSplitData,
  type FormatGenerator,
  type TaskRunData,
  type TrainingData
} from './types.js'
