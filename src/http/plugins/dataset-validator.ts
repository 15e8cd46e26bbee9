import fp from 'fastify-plugin'
import { createDatasetValidator, type DatasetValidator } from '../../validate/dataset-validator.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The dataset validator (reference data loaded once) of `/validate` and `?validate=strict`. */
    datasetValidator: DatasetValidator
  }
}

/** Options of the dataset validator plugin. */
export interface DatasetValidatorOptions {
  /** A price table used instead of data/prices.json (PRICES_FILE). */
  readonly pricesFile?: string
  /** VALIDATE_MAX_CHARS: characters of work per validation report. */
  readonly maxWorkChars?: number
}

/**
 * Builds the dataset validator once (provider profiles and prices loaded at boot: a bad
 * PRICES_FILE fails the start) for every route that validates.
 * @see https://fastify.dev/docs/latest/Reference/Decorators/
 */
export default fp(async (app, options: DatasetValidatorOptions) => {
  app.decorate('datasetValidator', await createDatasetValidator(options.pricesFile, { maxWorkChars: options.maxWorkChars }))
}, { name: 'dataset-validator' })
