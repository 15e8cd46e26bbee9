import { Type, type Static } from 'typebox'
import { ValidationReportSchema } from '../../validate/index.js'

/** The JSON body of every error answer. */
export const ErrorResponseSchema = Type.Object({
  statusCode: Type.Integer({ description: 'The HTTP status, repeated.' }),
  error: Type.String({ description: 'The HTTP reason phrase.' }),
  code: Type.String({ pattern: '^KEX_', description: 'Stable error code (see the README error table).' }),
  message: Type.String({ description: 'What went wrong; Kiln\'s own message for data errors.' }),
  run_ids: Type.Optional(Type.Array(Type.String(), { description: 'Every offending task-run id (up to 1000).' })),
  problems: Type.Optional(Type.Array(Type.Object({
    run_id: Type.String(),
    code: Type.String(),
    message: Type.String()
  }), { description: 'Per-run details, in split order (up to 100).' }))
}, { description: 'An error.' })

/** An error that may carry a validation report (422 KEX_VALIDATION_REPORT_ERRORS of `?validate=strict`). */
export const ErrorWithReportSchema = Type.Object({
  ...ErrorResponseSchema.properties,
  report: Type.Optional(ValidationReportSchema)
}, { description: 'An error; with ?validate=strict, a KEX_VALIDATION_REPORT_ERRORS error carries the validation report.' })

export type ErrorResponse = Static<typeof ErrorResponseSchema>
export type ErrorWithReport = Static<typeof ErrorWithReportSchema>

/** An error response of a route: the error body schema with the route's description and, for Swagger UI, an example body. */
export const errorResponse = (description: string, example?: ErrorResponse) => ({ ...ErrorResponseSchema, description, ...(example === undefined ? {} : { examples: [example] }) })

/** A real error body of a status, as Swagger UI's example for it. */
export const errorExample = (statusCode: number, error: string, code: string, message: string): ErrorResponse => ({ statusCode, error, code, message })

/** The 409 of every route that looks a dataset split up in the mounted projects. */
export const AMBIGUOUS_DESCRIPTION = 'The dataset split id is in more than one split file under KILN_PROJECTS_DIR (a copied project or folder): KEX_DATASET_AMBIGUOUS, naming them.'
