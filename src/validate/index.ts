/**
 * Public surface of the validation core: pure (no HTTP, no disk), built on the export's own
 * formatter and run check (export/run-check.ts), so the export and the report never disagree.
 * Two modules of validate/ read the disk and are imported by path, not from here:
 * reference-files.ts (loads data/*.json) and dataset-validator.ts (the service's validator, which
 * loads them once).
 */
export { billedTokensPerEpoch, estimateCost, openaiDefaultEpochs, type CostEstimate } from './cost.js'
export { checkProviderLine, type Finding, type Severity } from './providers.js'
export {
  PROVIDER_PROFILES,
  PriceTableSchema,
  ProviderProfilesSchema,
  UnknownModelError,
  availabilityWarnings,
  defaultProfilesText,
  formatsOfProfile,
  profileForFormat,
  resolveProfile,
  type AvailabilityWarning,
  type EpochsChoice,
  type PriceTable,
  type ProfileOverrides,
  type ProviderProfileName,
  type ProviderProfiles,
  type ReferenceData,
  type ResolvedProfile
} from './profiles.js'
export { PROFILE_RULES, RecordKindCheck, type ProfileRules } from './providers.js'
export {
  ValidationReportSchema,
  type ReportProblem,
  type SplitReport,
  type SplitRole,
  type ValidationReport
} from './report.js'
export { checkRun, missingRunsMessage, type RunCheck, type RunProblem } from '../export/run-check.js'
export { quantile, summarizeTokens, type TokenSummary } from './stats.js'
export { TOKENIZERS, loadTokenCounter, type TextTokenCounter, type TokenizerName } from './tokenizers.js'
export { REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, countChatTokens, tokenChatOfLine, type TokenChat, type TokenMessage } from './tokens.js'
export { exportErrorCode, splitRole, validateDataset, type ValidationOptions, type ValidationParams } from './validate-dataset.js'
export { WorkBudgetExceededError } from './work-budget.js'
