import { parseArgs } from 'node:util'
import { createDatasetValidator } from '../validate/dataset-validator.js'
import { DATA_ERRORS, validatorErrorAnswer } from '../errors.js'
import { exportParams } from '../export/request-params.js'
import { FormatError } from '../format/index.js'
import { PROVIDER_PROFILES, type ProviderProfileName } from '../validate/index.js'
import { parseOrUsage } from './args.js'
import { DATASET_OPTIONS, EXIT_UNKNOWN_DATASET, datasetRequest, findDataset } from './dataset-options.js'
import { EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'
import { requestFields } from './request-fields.js'

const OPTIONS = {
  ...DATASET_OPTIONS,
  profile: { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean' }
} as const

/**
 * `kiln-export validate`: the same report as `POST /datasets/:id/validate`, from a project folder.
 * Prints the summary (or the whole report with --json); exit 1 when the report has errors.
 */
export async function validateCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('validate', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const profile = values.profile
  if (profile !== undefined && !(PROVIDER_PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(`--profile must be one of: ${PROVIDER_PROFILES.join(', ')} (got '${profile}')`, 'validate')
  }
  const request = await datasetRequest('validate', values)
  const source = await findDataset(request, io)
  if (source === undefined) return EXIT_UNKNOWN_DATASET
  const validator = await createDatasetValidator()
  let report
  try {
    report = await validator.validate(source, exportParams(requestFields(request, values.split, request.systemMessage ?? '')), { profile: profile as ProviderProfileName | undefined, model: values.model }, io.signal, 'options')
  } catch (thrown) {
    // The validator's domain errors are said as the API says them (same message).
    const err = validatorErrorAnswer(thrown) ?? thrown
    if (!(err instanceof FormatError)) {
      if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('KEX_')) {
        say(io, err.message)
        return EXIT_USAGE
      }
      throw err
    }
    const mapped = DATA_ERRORS[err.code]
    say(io, err.message)
    io.stderr.write(`  code: ${mapped.code}\n`)
    return mapped.statusCode === 400 ? EXIT_USAGE : EXIT_DATA_ERROR
  }
  if (values.json === true) {
    io.stdout.write(JSON.stringify(report, null, 2) + '\n')
  } else {
    for (const line of report.summary) io.stdout.write(line + '\n')
    for (const split of report.splits) {
      for (const problem of split.problems) {
        const where = problem.run_id === null ? '' : ` run ${problem.run_id}`
        io.stdout.write(`  ${split.name}: ${problem.severity} ${problem.code}${where}: ${problem.message}\n`)
      }
    }
  }
  return report.status === 'errors' ? EXIT_DATA_ERROR : EXIT_OK
}
