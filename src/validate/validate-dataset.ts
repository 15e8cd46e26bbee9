import { createHash } from 'node:crypto'
import {
  FormatError,
  createLineFormatter,
  type DataStrategy,
  type DatasetFormat,
  type FormatErrorCode,
  type RunIdList,
  type TaskRunData
} from '../format/index.js'
import { type DatasetSource } from '../source/types.js'
import { estimateCost } from './cost.js'
import { checkProviderLine, type Severity } from './providers.js'
import { type ResolvedProfile } from './reference-data.js'
import { type ReportProblem, type ReportStatus, type SplitReport, type SplitRole, type ValidationReport } from './report.js'
import { ReportTokenCounter } from './report-tokens.js'
import { checkRun } from './run-check.js'
import { summarizeTokens } from './stats.js'
import { type TextTokenCounter } from './tokenizers.js'
import { tokenChatOfLine } from './tokens.js'
import { WorkBudget } from './work-budget.js'

/** What to validate: the export parameters, for one split or all of them. */
export interface ValidationParams {
  /** One split; undefined for every split of the dataset. */
  readonly splitName?: string
  readonly format: DatasetFormat
  readonly dataStrategy: DataStrategy
  readonly systemMessage: string
  readonly thinkingInstructions: string | null
  readonly includeToolCalls?: boolean
  readonly tools?: readonly unknown[] | null
}

/** How to validate: the profile's numbers, a token counter for its tokenizer. */
export interface ValidationOptions {
  readonly profile: ResolvedProfile
  readonly countTokens: TextTokenCounter
  /** Stops reading runs when the client goes away. */
  readonly signal?: AbortSignal
  /** Problems kept per split (counts stay complete); default 1000. */
  readonly maxProblemsPerSplit?: number
  /** Injected HF tool-call id generator (tests). */
  readonly randomToolCallId?: () => string
  /**
   * Characters of work allowed: every line formatted and checked, plus every text tokenized (a
   * text met again counts once). Past it WorkBudgetExceededError is thrown. Default: no limit.
   */
  readonly maxWorkChars?: number
  /** Characters per slice when a long text is tokenized (tests). */
  readonly tokenSliceChars?: number
}

const DEFAULT_MAX_PROBLEMS = 1000
/** A problem message is cut here, as in the export's error body. */
const MAX_MESSAGE = 1000

/** The report code of an export error: the KEX_ code the export answers with (src/errors.ts DATA_ERRORS). */
export function exportErrorCode (code: FormatErrorCode): `KEX_${FormatErrorCode}` {
  return `KEX_${code}`
}

/** A split's role, from its name: what a provider does with it (train on it, validate on it, or neither). */
export function splitRole (name: string): SplitRole {
  if (/^(val|valid|validation|dev)(?![a-z])/i.test(name)) return 'validation'
  if (/^(test|eval|evaluation|holdout)(?![a-z])/i.test(name)) return 'test'
  return 'training'
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex')
const isBlank = (text: string): boolean => text.trim() === ''
const finalOutput = (run: TaskRunData): string => run.repaired_output != null ? run.repaired_output.output : run.output.output
const cut = (message: string): string => message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE)}…`

/** Problems of one split: every one counted, the first `max` line problems kept. */
class SplitProblems {
  readonly splitWide: ReportProblem[] = []
  readonly lines: ReportProblem[] = []
  readonly counts: Record<string, number> = {}
  errors = 0
  warnings = 0
  truncated = false

  constructor (private readonly max: number) {}

  add (runId: string | null, line: number | null, severity: Severity, code: string, message: string): void {
    this.counts[code] = (this.counts[code] ?? 0) + 1
    if (severity === 'error') this.errors++
    else this.warnings++
    const problem = { run_id: runId, line, severity, code, message: cut(message) }
    if (line === null) this.splitWide.push(problem)
    else if (this.lines.length < this.max) this.lines.push(problem)
    else this.truncated = true
  }

  /** True while a line problem added now would be kept in the list. */
  get keepsMore (): boolean {
    return this.lines.length < this.max
  }

  get status (): ReportStatus {
    return this.errors > 0 ? 'errors' : this.warnings > 0 ? 'warnings' : 'ok'
  }
}

/** The run ids of every split, to find a run listed in more than one. */
function splitsByRun (splitContents: Readonly<Record<string, RunIdList>>): Map<string, string[]> {
  const result = new Map<string, string[]>()
  for (const [name, ids] of Object.entries(splitContents)) {
    for (const id of ids) {
      const names = result.get(id)
      if (names === undefined) result.set(id, [name])
      else if (!names.includes(name)) names.push(name)
    }
  }
  return result
}

/** Distinct runs per split name: each is formatted and checked once in that split. */
function distinctRunCounts (runs: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const names of runs.values()) for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
  return counts
}

/** Characters every line holds at least, whatever its run: the system message and tool descriptions. */
function sharedLineChars (params: ValidationParams): number {
  // Hugging Face lines carry no tools.
  const tools = params.format.startsWith('huggingface') ? [] : params.tools ?? []
  let chars = params.systemMessage.length
  for (const tool of tools) {
    const fn: unknown = typeof tool === 'object' && tool !== null ? (tool as { function?: unknown }).function : undefined
    const description: unknown = typeof fn === 'object' && fn !== null ? (fn as { description?: unknown }).description : undefined
    if (typeof description === 'string') chars += description.length
  }
  return chars
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`

/** One line for people: the split's verdict, size, tokens and cost. */
function summaryLine (split: SplitReport): string {
  const verdict = split.status === 'errors' ? 'FAILS' : split.status === 'warnings' ? 'passes with warnings' : 'passes'
  const tokens = split.tokens === null ? '' : `, ${plural(split.tokens.total, 'token')}`
  const cost = split.cost === null
    ? ''
    : split.cost.estimated_cost === null
      ? `; ${plural(split.cost.billed_tokens, 'billed token')} (${plural(split.cost.epochs, 'epoch')}), no price`
      : `; estimated ${split.cost.estimated_cost} ${split.cost.currency ?? ''} (${plural(split.cost.billed_tokens, 'billed token')}, ${plural(split.cost.epochs, 'epoch')})`
  return `${split.name} [${split.role}]: ${verdict} (${plural(split.error_count, 'error')}, ${plural(split.warning_count, 'warning')}); ` +
    `${plural(split.run_count, 'example')}${tokens}${cost}`
}

/**
 * Validate a dataset split for fine-tuning: read every run of the chosen splits once, format each
 * with the export's own formatter (so the export's errors are reported with its codes and
 * messages), parse the line it makes, check the provider's rules on it, count its tokens, and
 * look for data problems across runs. Memory stays bounded: lines are dropped once checked; per
 * split only the token counts, the ids seen and a hash per distinct input are kept.
 *
 * Work stays bounded too: a run listed again is not checked again, a text met again (the system
 * message on every line) is tokenized once, the whole is charged to `maxWorkChars`, and other
 * requests get the event loop every few milliseconds.
 *
 * Request-level refusals (format/strategy combinations, an unknown split) throw FormatError, as
 * the export does: they are not data problems.
 */
export async function validateDataset (source: DatasetSource, params: ValidationParams, options: ValidationOptions): Promise<ValidationReport> {
  const { split } = source
  const { profile, countTokens, signal } = options
  if (params.splitName !== undefined && !Object.hasOwn(split.split_contents, params.splitName)) {
    throw new FormatError('SPLIT_NOT_FOUND', `Split ${params.splitName} not found in dataset`)
  }
  const formatLine = createLineFormatter({ ...params, randomToolCallId: options.randomToolCallId })
  const names = params.splitName === undefined ? Object.keys(split.split_contents) : [params.splitName]
  const otherSplits = splitsByRun(split.split_contents)
  const overLimitSeverity: Severity = profile.overTokenLimit === 'rejected' ? 'error' : 'warning'
  const overLimitConsequence = { truncated: 'the provider truncates it', rejected: 'the provider rejects it', unknown: 'the provider may reject or truncate it' }[profile.overTokenLimit]
  const budget = new WorkBudget(options.maxWorkChars ?? Infinity, signal)
  const runCounts = distinctRunCounts(otherSplits)
  const shared = sharedLineChars(params)
  budget.expect(names.reduce((sum, name) => sum + (runCounts.get(name) ?? 0), 0), shared,
    shared > params.systemMessage.length ? 'The system message and tool descriptions' : 'The system message')
  const tokenCounter = new ReportTokenCounter(countTokens, budget, options.tokenSliceChars)
  // The export errors met so far; a failed line's outcome is -1 - the index of its code here.
  const failureCodes: FormatErrorCode[] = []

  const splits: SplitReport[] = []
  for (const name of names) {
    const ids = split.split_contents[name] ?? []
    const role = splitRole(name)
    const problems = new SplitProblems(options.maxProblemsPerSplit ?? DEFAULT_MAX_PROBLEMS)
    // Per line: its tokens, or (< 0) the export error its run got; a repeated run reuses its first line's.
    const outcomes: number[] = []
    const firstLineOf = new Map<string, number>()
    // Messages of failed runs, while the problem list still keeps them (so at most its length).
    const failureMessages = new Map<string, string>()
    const firstInput = new Map<string, { runId: string, line: number, output: string }>()
    let exportable = true
    let overLimit = 0
    let line = 0
    /** 1 when an example is over the model's limit (and the problem is added), else 0. */
    const checkTokenLimit = (runId: string, at: number, tokens: number): number => {
      if (profile.maxTokensPerExample === null || tokens <= profile.maxTokensPerExample) return 0
      problems.add(runId, at, overLimitSeverity, 'EXAMPLE_OVER_TOKEN_LIMIT',
        `Run ${runId}: about ${tokens} tokens, over the limit of ${profile.maxTokensPerExample} per example (${profile.model}); ${overLimitConsequence}`)
      return 1
    }

    for await (const batch of source.runs(ids, signal)) {
      for (const lookup of batch) {
        line++
        const runId = lookup.id
        const firstLine = firstLineOf.get(runId)
        if (firstLine !== undefined) {
          // Listed again: the same line as before, so the same outcome, without checking it again.
          const outcome = outcomes[firstLine - 1] ?? 0
          if (outcome < 0) {
            problems.add(runId, line, 'error', exportErrorCode(failureCodes[-1 - outcome] ?? 'TASK_RUN_INVALID'), failureMessages.get(runId) ?? '')
          }
          problems.add(runId, line, 'warning', 'DUPLICATE_RUN_ID', `Run ${runId} is listed again (first at line ${firstLine}): the export repeats its line`)
          outcomes.push(outcome)
          if (outcome >= 0) overLimit += checkTokenLimit(runId, line, outcome)
          continue
        }
        firstLineOf.set(runId, line)

        const checked = checkRun(lookup, formatLine)
        if (!checked.ok) {
          exportable = false
          const { code, message } = checked.problem
          if (!failureCodes.includes(code)) failureCodes.push(code)
          outcomes.push(-1 - failureCodes.indexOf(code))
          if (problems.keepsMore) failureMessages.set(runId, message)
          problems.add(runId, line, 'error', exportErrorCode(code), message)
        }

        const elsewhere = (otherSplits.get(runId) ?? []).filter((other) => other !== name)
        if (elsewhere.length > 0) {
          problems.add(runId, line, 'warning', 'RUN_IN_SEVERAL_SPLITS',
            `Run ${runId} is also in split ${elsewhere.join(', ')}: the same example in two splits leaks between training and evaluation`)
        }
        const { run } = checked
        if (run !== null) {
          const output = finalOutput(run)
          if (isBlank(run.input)) problems.add(runId, line, 'warning', 'EMPTY_INPUT', `Run ${runId} has an empty input`)
          if (isBlank(output)) problems.add(runId, line, 'warning', 'EMPTY_OUTPUT', `Run ${runId} has an empty final output (repaired_output when set, else output)`)
          const inputKey = sha1(run.input)
          const outputKey = sha1(output)
          const first = firstInput.get(inputKey)
          if (first === undefined) {
            firstInput.set(inputKey, { runId, line, output: outputKey })
          } else if (first.output !== outputKey) {
            problems.add(runId, line, 'warning', 'CONFLICTING_OUTPUTS',
              `Run ${runId} has the same input as run ${first.runId} (line ${first.line}) but a different output`)
          }
        }

        if (checked.ok) {
          budget.spend(checked.line.length)
          // A long line takes a while to format and as long again to parse: let others in between.
          await budget.pause()
          let example: unknown
          try {
            example = JSON.parse(checked.line)
          } catch {
            // Our lines are standard JSON (non-finite numbers are refused); this would be a bug.
            problems.add(runId, line, 'error', 'LINE_NOT_JSON', `The line of run ${runId} is not standard JSON`)
            // Neither tokens nor an export error: NaN is neither >= 0 nor < 0.
            outcomes.push(NaN)
            continue
          }
          for (const finding of checkProviderLine(profile.name, example)) problems.add(runId, line, finding.severity, finding.code, finding.message)
          const tokens = await tokenCounter.countChat(tokenChatOfLine(params.format, example))
          outcomes.push(tokens)
          overLimit += checkTokenLimit(runId, line, tokens)
        }
        await budget.pause()
      }
      signal?.throwIfAborted()
    }
    signal?.throwIfAborted()

    const count = ids.length
    if (count === 0) {
      problems.add(null, null, role === 'training' ? 'error' : 'warning', 'EMPTY_SPLIT', `Split ${name} lists no runs`)
    } else if (role === 'training') {
      if (profile.minTrainingExamples !== null && count < profile.minTrainingExamples) {
        problems.add(null, null, 'error', 'TOO_FEW_TRAINING_EXAMPLES',
          `${plural(count, 'example')}: ${profile.title} needs at least ${profile.minTrainingExamples}`)
      } else if (profile.recommendedMinTrainingExamples !== null && count < profile.recommendedMinTrainingExamples) {
        problems.add(null, null, 'warning', 'FEW_TRAINING_EXAMPLES',
          `${plural(count, 'example')}: ${profile.title} recommends at least ${profile.recommendedMinTrainingExamples}`)
      }
    } else if (role === 'validation' && profile.maxValidationExamples !== null && count > profile.maxValidationExamples) {
      problems.add(null, null, 'error', 'TOO_MANY_VALIDATION_EXAMPLES',
        `${plural(count, 'example')}: ${profile.title} accepts at most ${profile.maxValidationExamples} validation examples for ${profile.model}`)
    }

    const tokenCounts = outcomes.filter((outcome) => outcome >= 0)
    const summary = summarizeTokens(tokenCounts)
    splits.push({
      name,
      role,
      status: problems.status,
      run_count: count,
      line_count: tokenCounts.length,
      exportable,
      error_count: problems.errors,
      warning_count: problems.warnings,
      problem_counts: problems.counts,
      problems: [...problems.splitWide, ...problems.lines],
      problems_truncated: problems.truncated,
      tokens: summary === null ? null : { tokenizer: profile.tokenizer, ...summary, limit: profile.maxTokensPerExample, over_limit: overLimit },
      cost: role === 'training' ? estimateCost(tokenCounts, profile) : null
    })
  }

  const errorCount = splits.reduce((sum, s) => sum + s.error_count, 0)
  const warningCount = splits.reduce((sum, s) => sum + s.warning_count, 0)
  const costs = splits.flatMap((s) => s.cost === null ? [] : [s.cost.estimated_cost])
  const estimated = costs.length === 0 || costs.includes(null) ? null : Math.round(costs.reduce((sum: number, c) => sum + (c ?? 0), 0) * 1_000_000) / 1_000_000
  return {
    dataset: { id: split.id, name: split.name },
    format: params.format,
    data_strategy: params.dataStrategy,
    provider_profile: {
      name: profile.name,
      title: profile.title,
      model: profile.model,
      tokenizer: profile.tokenizer,
      max_tokens_per_example: profile.maxTokensPerExample,
      min_training_examples: profile.minTrainingExamples,
      max_validation_examples: profile.maxValidationExamples,
      as_of: profile.asOf
    },
    status: errorCount > 0 ? 'errors' : warningCount > 0 ? 'warnings' : 'ok',
    error_count: errorCount,
    warning_count: warningCount,
    estimated_cost: estimated,
    currency: estimated === null ? null : profile.price?.currency ?? null,
    summary: splits.map(summaryLine),
    splits,
    notes: [
      `Tokens are counted with ${profile.tokenizer} the way OpenAI's cookbook counts chat examples (3 per message, 1 per name, 3 for the reply priming)` +
        (profile.name === 'openai' ? '.' : `: an estimate of ${profile.name === 'vertex_gemini' ? 'Gemini\'s' : 'the trained model\'s'} own tokenizer.`),
      profile.price === null
        ? 'No price for this model: send price_per_million_tokens for a cost estimate.'
        : `Cost = billed tokens x epochs x ${profile.price.perMillionTokens} ${profile.price.currency} per million (${profile.price.source}): an estimate, not a quote.`,
      ...profile.notes
    ]
  }
}
