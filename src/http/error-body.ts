import { STATUS_CODES } from 'node:http'
import { type ErrorObject } from 'ajv'
import {
  BadRequestError,
  BodyTooLargeError,
  DATA_ERRORS,
  InternalError,
  InvalidJsonBodyError,
  OutOfFileHandlesError,
  PROJECT_PROBLEMS,
  UnsupportedMediaTypeError,
  ValidationFailedError,
  ValidationReportErrorsError,
  validatorErrorAnswer
} from '../errors.js'
import { ExportDataError } from '../export/prepare-export.js'
import { FormatError } from '../format/index.js'
import { isOutOfFileHandles } from '../out-of-files.js'
import { ProjectProblemError } from '../source/project-problem.js'
import { type ErrorResponse, type ErrorWithReport } from './schemas/error-response.js'
import { describeValidationErrors } from './schema-validator.js'

interface ErrorLike {
  readonly code?: unknown
  readonly statusCode?: unknown
  readonly message?: unknown
  readonly validation?: readonly ErrorObject[]
  readonly validationContext?: string
}

function body (statusCode: number, code: string, message: string): ErrorResponse {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message }
}

function fromKexError (err: { code: string, statusCode?: number, message: string }): ErrorResponse {
  return body(err.statusCode ?? 500, err.code, err.message)
}

/** What is wrong with the request's Content-Type, said once (Fastify's own message names none). */
function mediaTypeProblem (contentType: string | undefined): string {
  if (contentType === undefined || contentType.trim() === '') return 'The request has no Content-Type header'
  const shown = contentType.length > 100 ? `${contentType.slice(0, 100)}...` : contentType
  return `Content-Type ${JSON.stringify(shown)} is not supported`
}

/**
 * Turn anything thrown while handling a request into the API's JSON error body. Only errors we
 * know are safe to show keep their message: anything unexpected becomes a bare 500.
 */
export function toErrorBody (thrown: unknown, bodyLimit: number, request: { readonly contentType?: string } = {}): ErrorWithReport {
  if (thrown instanceof ValidationReportErrorsError) {
    return { ...body(thrown.statusCode, thrown.code, thrown.message), report: thrown.report }
  }
  if (thrown instanceof ExportDataError) {
    const mapped = DATA_ERRORS[thrown.code]
    return {
      ...body(mapped.statusCode, mapped.code, thrown.message),
      run_ids: [...thrown.runIds],
      problems: thrown.problems.map((p) => ({ run_id: p.runId, code: DATA_ERRORS[p.code].code, message: p.message }))
    }
  }
  if (thrown instanceof ProjectProblemError) {
    const mapped = PROJECT_PROBLEMS[thrown.problem.reason]
    return body(mapped.statusCode, mapped.code, thrown.message)
  }
  if (thrown instanceof FormatError) {
    const mapped = DATA_ERRORS[thrown.code]
    const result = body(mapped.statusCode, mapped.code, thrown.message)
    return thrown.runId === undefined ? result : { ...result, run_ids: [thrown.runId] }
  }
  const validatorAnswer = validatorErrorAnswer(thrown)
  if (validatorAnswer !== undefined) return fromKexError(validatorAnswer)
  // Out of file handles anywhere (a project read, a static file): load, not a bug.
  if (isOutOfFileHandles(thrown)) return fromKexError(new OutOfFileHandlesError())
  const err = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as ErrorLike
  if (err.validation !== undefined) {
    return fromKexError(new ValidationFailedError(describeValidationErrors(err.validation, err.validationContext ?? 'body')))
  }
  if (typeof err.code === 'string' && err.code.startsWith('KEX_') && typeof err.message === 'string') {
    return fromKexError({ code: err.code, message: err.message, statusCode: typeof err.statusCode === 'number' ? err.statusCode : 500 })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fromKexError(new BodyTooLargeError(bodyLimit))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return fromKexError(new UnsupportedMediaTypeError(mediaTypeProblem(request.contentType)))
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return fromKexError(new InvalidJsonBodyError('the body is empty'))
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return fromKexError(new InvalidJsonBodyError('it does not parse'))
  }
  // The JSON body parser throws a SyntaxError (with statusCode 400) for malformed JSON.
  if (thrown instanceof SyntaxError) return fromKexError(new InvalidJsonBodyError(thrown.message))
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500
  if (status >= 400 && status < 500 && typeof err.message === 'string') {
    // Fastify's own 4xx errors (bad content length, proto poisoning, ...) say nothing internal.
    return { ...fromKexError(new BadRequestError(err.message)), statusCode: status, error: STATUS_CODES[status] ?? 'Error' }
  }
  return fromKexError(new InternalError())
}
