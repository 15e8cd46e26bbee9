import { type DatasetSource } from '../source/types.js'
import {
  UnknownModelError,
  profileForFormat,
  resolveProfile,
  type ProfileOverrides,
  type ProviderProfileName,
  type ReferenceData,
  type ResolvedProfile
} from './profiles.js'
import { loadReferenceData } from './reference-files.js'
import { type ValidationReport } from './report.js'
import { loadTokenCounter } from './tokenizers.js'
import { validateDataset, type ValidationParams } from './validate-dataset.js'
import { WorkBudgetExceededError } from './work-budget.js'

/*
 * The validator the service and the CLI run: the reference data loaded once from disk
 * (reference-files.ts), then the pure core per request. It throws domain errors only
 * (UnknownModelError naming where the choice came from, WorkBudgetExceededError saying how to get
 * under the limit); src/errors.ts says how the API and the CLI answer them.
 */

/** The profile choice of a request: a profile (default: the format's) and its overrides. */
export interface ProfileRequest extends ProfileOverrides {
  readonly profile?: ProviderProfileName
}

/** Runs the validation core for the routes, with the reference data loaded once. */
export interface DatasetValidator {
  readonly data: ReferenceData
  /** `where` names the request part the profile choice came from, for a 400 (`body`, `querystring`). */
  validate (source: DatasetSource, params: ValidationParams, choice: ProfileRequest, signal?: AbortSignal, where?: string): Promise<ValidationReport>
}

/** How much work one report may do. */
export interface ValidatorLimits {
  /** VALIDATE_MAX_CHARS: characters of work per report (lines checked plus texts tokenized); default: no limit (the CLI). */
  readonly maxWorkChars?: number
}

/**
 * Load the provider profiles and prices (PRICES_FILE when given) and build the validator the
 * validate route and `?validate=strict` share. A model the profile does not list is an
 * UnknownModelError naming the models it does; a report over its work limit is a
 * WorkBudgetExceededError saying how to get under it.
 */
export async function createDatasetValidator (pricesFile?: string, limits: ValidatorLimits = {}): Promise<DatasetValidator> {
  const data = await loadReferenceData(pricesFile)
  return {
    data,
    async validate (source, params, choice, signal, where = 'body') {
      const name = choice.profile ?? profileForFormat(data.profiles, params.format)
      let profile: ResolvedProfile
      try {
        profile = resolveProfile(data, name, choice)
      } catch (err) {
        if (err instanceof UnknownModelError) throw new UnknownModelError(err.profile, err.model, err.known, where)
        throw err
      }
      const countTokens = await loadTokenCounter(profile.tokenizer)
      try {
        return await validateDataset(source, params, { profile, countTokens, signal, maxWorkChars: limits.maxWorkChars })
      } catch (err) {
        if (err instanceof WorkBudgetExceededError) {
          throw new WorkBudgetExceededError(err.limit, `${err.message}. Validate one split or fewer runs, ` +
            'shorten the system message or tool descriptions, or raise VALIDATE_MAX_CHARS.')
        }
        throw err
      }
    }
  }
}
