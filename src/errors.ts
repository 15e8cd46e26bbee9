import createError from '@fastify/error'
import { type FormatErrorCode } from './format/index.js'
import { type ProjectProblem, type ProjectProblemReason } from './source/types.js'
import { UnknownModelError, WorkBudgetExceededError, type ValidationReport } from './validate/index.js'

const codes: string[] = []

/** Seconds a client is told to wait (Retry-After) before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5

/** createError, remembering the code so the catalogue can be listed and checked. */
function defineError<C extends string, S extends number, A extends unknown[]> (code: C, message: string, statusCode: S) {
  codes.push(code)
  return createError<C, S, A>(code, message, statusCode)
}

/**
 * The error catalogue: every error the API answers with, by code. Codes carry the `KEX_` prefix
 * and are part of the API contract (the README's error table lists them).
 */
export const ValidationFailedError = defineError<'KEX_VALIDATION_FAILED', 400, [string]>('KEX_VALIDATION_FAILED', '%s', 400)
export const InvalidJsonBodyError = defineError<'KEX_INVALID_JSON_BODY', 400, [string]>('KEX_INVALID_JSON_BODY', 'Request body is not valid JSON: %s', 400)
export const BadRequestError = defineError<'KEX_BAD_REQUEST', 400, [string]>('KEX_BAD_REQUEST', '%s', 400)
export const DatasetIdMismatchError = defineError<'KEX_DATASET_ID_MISMATCH', 400, [string, string]>(
  'KEX_DATASET_ID_MISMATCH', 'dataset_split.id %s does not match the dataset id %s in the URL', 400)
export const IncompleteInlineBodyError = defineError<'KEX_INCOMPLETE_INLINE_BODY', 400, []>(
  'KEX_INCOMPLETE_INLINE_BODY', 'An inline export needs both dataset_split and task_runs', 400)
export const HeadersTooLargeError = defineError<'KEX_HEADERS_TOO_LARGE', 431, [number]>(
  'KEX_HEADERS_TOO_LARGE', 'The request line and headers are larger than the limit of %d bytes: send fewer or shorter headers', 431)
export const ExpectationFailedError = defineError<'KEX_EXPECTATION_FAILED', 417, []>(
  'KEX_EXPECTATION_FAILED', 'Expect: 100-continue is the only expectation supported', 417)
export const DatasetNotFoundError = defineError<'KEX_DATASET_NOT_FOUND', 404, [string]>('KEX_DATASET_NOT_FOUND', '%s', 404)
export const RouteNotFoundError = defineError<'KEX_ROUTE_NOT_FOUND', 404, [string, string]>('KEX_ROUTE_NOT_FOUND', 'Route %s %s not found', 404)
export const MethodNotAllowedError = defineError<'KEX_METHOD_NOT_ALLOWED', 405, [string, string, string]>(
  'KEX_METHOD_NOT_ALLOWED', '%s %s is not allowed: this route answers %s', 405)
export const BodyTooLargeError = defineError<'KEX_BODY_TOO_LARGE', 413, [number]>(
  'KEX_BODY_TOO_LARGE', 'Request body is larger than the limit of %d bytes (BODY_LIMIT)', 413)
export const UnsupportedMediaTypeError = defineError<'KEX_UNSUPPORTED_MEDIA_TYPE', 415, [string]>(
  'KEX_UNSUPPORTED_MEDIA_TYPE', '%s: send the header Content-Type: application/json', 415)
export const NestingTooDeepError = defineError<'KEX_NESTING_TOO_DEEP', 400, [string]>('KEX_NESTING_TOO_DEEP', '%s', 400)
export const InvalidUtf8BodyError = defineError<'KEX_INVALID_UTF8', 400, []>('KEX_INVALID_UTF8', 'Request body is not valid UTF-8', 400)
export const UnauthorizedError = defineError<'KEX_UNAUTHORIZED', 401, []>(
  'KEX_UNAUTHORIZED', 'Missing or wrong bearer token: send Authorization: Bearer <API_TOKEN>', 401)
export const RequestTimeoutError = defineError<'KEX_REQUEST_TIMEOUT', 408, []>('KEX_REQUEST_TIMEOUT',
  'The request did not arrive in time: send its head within HEADERS_TIMEOUT_MS and the whole request within REQUEST_TIMEOUT_MS', 408)
export const TooManyExportsError = defineError<'KEX_TOO_MANY_EXPORTS', 503, [number]>(
  'KEX_TOO_MANY_EXPORTS', '%d exports are already running (MAX_CONCURRENT_EXPORTS): retry later', 503)
export const ExportDeadlineError = defineError<'KEX_EXPORT_DEADLINE', 503, [number]>('KEX_EXPORT_DEADLINE',
  'The export ran longer than EXPORT_DEADLINE_MS (%d ms) and was stopped: retry, or ask the operator to raise EXPORT_DEADLINE_MS', 503)
export const OverloadedError = defineError<'KEX_OVERLOADED', 503, []>('KEX_OVERLOADED', 'The service is under pressure: retry later', 503)
export const OutOfFileHandlesError = defineError<'KEX_OUT_OF_FILE_HANDLES', 503, []>('KEX_OUT_OF_FILE_HANDLES',
  'The service has no file handle left (too many open connections): retry after Retry-After seconds; ' +
  'operators: raise the open-file limit (ulimit -n) or lower MAX_CONNECTIONS', 503)
export const ShuttingDownError = defineError<'KEX_SHUTTING_DOWN', 503, []>('KEX_SHUTTING_DOWN', 'The service is shutting down: retry on another instance', 503)
export const ValidationTooLargeError = defineError<'KEX_VALIDATION_TOO_LARGE', 422, [string]>('KEX_VALIDATION_TOO_LARGE', '%s', 422)
export const ExportJobNotFoundError = defineError<'KEX_EXPORT_JOB_NOT_FOUND', 404, [string]>('KEX_EXPORT_JOB_NOT_FOUND',
  'Export job %s not found: it never existed, was deleted, or its result expired (EXPORTS_TTL); POST /exports again', 404)
export const ExportNotReadyError = defineError<'KEX_EXPORT_NOT_READY', 409, [string, string]>('KEX_EXPORT_NOT_READY',
  'Export job %s is %s: its file can be downloaded once it is done (GET /exports/{id} says when)', 409)
export const RangeNotSatisfiableError = defineError<'KEX_RANGE_NOT_SATISFIABLE', 416, [string, number]>('KEX_RANGE_NOT_SATISFIABLE',
  'Range %s cannot be satisfied: the file has %d bytes', 416)
export const SourceChangedError = defineError<'KEX_SOURCE_CHANGED', 409, [string]>('KEX_SOURCE_CHANGED',
  'The data of dataset split %s changed after the export job was created: POST /exports again for an export of the data as it is now', 409)
export const ExportJobFailedError = defineError<'KEX_EXPORT_JOB_FAILED', 500, [number]>('KEX_EXPORT_JOB_FAILED',
  'The export job failed %d times on an I/O error (reading the data or writing the result; details are in the worker\'s log): POST /exports again to retry', 500)
export const JobQueueUnavailableError = defineError<'KEX_JOB_QUEUE_UNAVAILABLE', 503, []>('KEX_JOB_QUEUE_UNAVAILABLE',
  'The export job queue (Redis) does not answer: retry later', 503)
export const InternalError = defineError<'KEX_INTERNAL', 500, []>('KEX_INTERNAL', 'Internal server error', 500)

const ValidationReportErrorsBase = defineError<'KEX_VALIDATION_REPORT_ERRORS', 422, [string]>('KEX_VALIDATION_REPORT_ERRORS', '%s', 422)
/** `?validate=strict` on an export whose validation report has errors: answered with the report. */
export class ValidationReportErrorsError extends ValidationReportErrorsBase {
  constructor (message: string, readonly report: ValidationReport) {
    super(message)
  }
}

/**
 * How each formatter error code is answered: status and API code, always `KEX_` + the code (the
 * type says so), which the validation report relies on to name export errors.
 */
export const DATA_ERRORS: { readonly [C in FormatErrorCode]: { readonly statusCode: 400 | 404 | 422, readonly code: `KEX_${C}` } } = {
  STRATEGY_NOT_SUPPORTED: { statusCode: 400, code: 'KEX_STRATEGY_NOT_SUPPORTED' },
  PAIR_BY_NOT_SUPPORTED: { statusCode: 400, code: 'KEX_PAIR_BY_NOT_SUPPORTED' },
  SPLIT_NOT_FOUND: { statusCode: 404, code: 'KEX_SPLIT_NOT_FOUND' },
  TASK_RUN_NOT_FOUND: { statusCode: 422, code: 'KEX_TASK_RUN_NOT_FOUND' },
  TASK_RUN_INVALID: { statusCode: 422, code: 'KEX_TASK_RUN_INVALID' },
  THINKING_INSTRUCTIONS_REQUIRED: { statusCode: 422, code: 'KEX_THINKING_INSTRUCTIONS_REQUIRED' },
  THINKING_INSTRUCTIONS_NOT_SUPPORTED: { statusCode: 422, code: 'KEX_THINKING_INSTRUCTIONS_NOT_SUPPORTED' },
  THINKING_DATA_REQUIRED: { statusCode: 422, code: 'KEX_THINKING_DATA_REQUIRED' },
  THINKING_DATA_BLANK: { statusCode: 422, code: 'KEX_THINKING_DATA_BLANK' },
  TRACE_INVALID: { statusCode: 422, code: 'KEX_TRACE_INVALID' },
  TOOL_CALLS_NOT_SUPPORTED: { statusCode: 422, code: 'KEX_TOOL_CALLS_NOT_SUPPORTED' },
  TOOL_NOT_RESOLVABLE: { statusCode: 422, code: 'KEX_TOOL_NOT_RESOLVABLE' },
  MIXED_TOOL_SETS: { statusCode: 422, code: 'KEX_MIXED_TOOL_SETS' },
  OUTPUT_NOT_JSON: { statusCode: 422, code: 'KEX_OUTPUT_NOT_JSON' },
  OUTPUT_NOT_OBJECT: { statusCode: 422, code: 'KEX_OUTPUT_NOT_OBJECT' },
  OUTPUT_NOT_FINITE: { statusCode: 422, code: 'KEX_OUTPUT_NOT_FINITE' },
  OUTPUT_NOT_SUPPORTED: { statusCode: 422, code: 'KEX_OUTPUT_NOT_SUPPORTED' },
  UNENCODABLE_TEXT: { statusCode: 422, code: 'KEX_UNENCODABLE_TEXT' },
  NO_PREFERENCE_PAIRS: { statusCode: 422, code: 'KEX_NO_PREFERENCE_PAIRS' }
}

/**
 * How the validator's domain errors are answered (it throws them without HTTP status): a model the
 * profile does not list is a 400 pointing at the request part it came from; a report over its
 * work limit, a 422 saying how to get under it. The API (http/error-body.ts) and the CLI
 * (validate-command.ts) both answer from here. Undefined for anything else.
 */
export function validatorErrorAnswer (err: unknown): InstanceType<typeof ValidationFailedError> | InstanceType<typeof ValidationTooLargeError> | undefined {
  if (err instanceof UnknownModelError) return new ValidationFailedError(`${err.where ?? 'body'}/${err.message}`)
  if (err instanceof WorkBudgetExceededError) return new ValidationTooLargeError(err.message)
  return undefined
}

/** How each problem of a mounted project's files is answered (and named in GET /datasets). */
export const PROJECT_PROBLEMS: { readonly [R in ProjectProblemReason]: { readonly statusCode: 409 | 422, readonly code: `KEX_${string}` } } = {
  not_regular: { statusCode: 422, code: 'KEX_KILN_FILE_NOT_REGULAR' },
  too_large: { statusCode: 422, code: 'KEX_KILN_FILE_TOO_LARGE' },
  invalid: { statusCode: 422, code: 'KEX_KILN_FILE_INVALID' },
  ambiguous: { statusCode: 409, code: 'KEX_DATASET_AMBIGUOUS' }
}

/** A problem as GET /datasets (and `kiln-export list --json`) shows it. */
export function listedProblem (problem: ProjectProblem): { code: string, files: string[], message: string } {
  return { code: PROJECT_PROBLEMS[problem.reason].code, files: [...problem.files], message: problem.message }
}

/** Every code the API can answer with (documented, and checked for the prefix by a test). */
export const ERROR_CODES: readonly string[] = [
  ...codes,
  ...Object.values(DATA_ERRORS).map((e) => e.code),
  ...Object.values(PROJECT_PROBLEMS).map((e) => e.code)
]
