import { parseArgs } from 'node:util'
import { createDatasetValidator } from '../dataset-validator.js'
import { DATA_ERRORS } from '../errors.js'
import { DATA_STRATEGIES, DATASET_FORMATS, FormatError, isDatasetFormat, type DataStrategy } from '../format/index.js'
import { KilnProjects } from '../source/kiln-project.js'
import { PROVIDER_PROFILES, type ProviderProfileName } from '../validate/index.js'
import { existingFolder, parseOrUsage, required } from './args.js'
import { readSystemMessageFile } from './export-command.js'
import { EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError, say, type CliIo } from './io.js'

const OPTIONS = {
  project: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  format: { type: 'string' },
  strategy: { type: 'string' },
  'system-message': { type: 'string' },
  'system-message-file': { type: 'string' },
  'thinking-instructions': { type: 'string' },
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
  const projectArg = required('validate', 'project', values.project)
  const datasetId = required('validate', 'dataset', values.dataset)
  const format = required('validate', 'format', values.format)
  if (!isDatasetFormat(format)) throw new UsageError(`--format must be one of: ${DATASET_FORMATS.join(', ')} (got '${format}')`, 'validate')
  const strategy = values.strategy ?? 'final_only'
  if (!(DATA_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of: ${DATA_STRATEGIES.join(', ')} (got '${strategy}')`, 'validate')
  }
  const profile = values.profile
  if (profile !== undefined && !(PROVIDER_PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(`--profile must be one of: ${PROVIDER_PROFILES.join(', ')} (got '${profile}')`, 'validate')
  }
  if (values['system-message'] !== undefined && values['system-message-file'] !== undefined) {
    throw new UsageError('give either --system-message or --system-message-file, not both', 'validate')
  }
  const messageFile = values['system-message-file']
  const systemMessage = (messageFile === undefined ? values['system-message'] : await readSystemMessageFile(messageFile)) ?? ''
  const projectDir = await existingFolder('validate', 'project', projectArg)

  const source = await new KilnProjects(projectDir).find(datasetId)
  if (source === undefined) {
    say(io, `Dataset split ${datasetId} not found in the Kiln projects under ${projectArg}`)
    io.stderr.write('  code: KEX_DATASET_NOT_FOUND\n')
    return EXIT_DATA_ERROR
  }
  const validator = await createDatasetValidator()
  let report
  try {
    report = await validator.validate(source, {
      splitName: values.split,
      format,
      dataStrategy: strategy as DataStrategy,
      systemMessage,
      thinkingInstructions: values['thinking-instructions'] ?? null
    }, { profile: profile as ProviderProfileName | undefined, model: values.model }, io.signal, 'options')
  } catch (err) {
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
