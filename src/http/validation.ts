import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import { type FastifySchemaCompiler } from 'fastify'

function createAjv (coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    // Fastify's default removes unknown properties silently; we reject them instead.
    removeAdditional: false,
    allErrors: false,
    strict: false
  })
  addFormats.default(ajv)
  return ajv
}

// Bodies are JSON: a number is never a string. Params and querystrings arrive as text: coerce them.
const bodyAjv = createAjv(false)
const textAjv = createAjv(true)

/** Fastify validator compiler: strict for bodies, coercing for params, querystrings and headers. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object)

function describeOne (error: ErrorObject, where: string): string {
  const path = `${where}${error.instancePath}`
  switch (error.keyword) {
    case 'required':
      return `${path}/${String(error.params.missingProperty)} is required`
    case 'additionalProperties':
      return `${path} has an unknown property '${String(error.params.additionalProperty)}'`
    case 'enum':
      return `${path} must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`
    case 'type':
      return `${path} must be ${String(error.params.type)}`
    default:
      return `${path} ${error.message ?? 'is invalid'}`
  }
}

/**
 * One readable sentence naming the field: `body/format must be one of: ...`. For `anyOf` (a value
 * that may be an object or null) the branch types are merged: `must be object or null`.
 */
export function describeValidationErrors (errors: readonly ErrorObject[], where: string): string {
  const last = errors[errors.length - 1]
  if (last !== undefined && last.keyword === 'anyOf') {
    const branches = errors.slice(0, -1)
    if (branches.length > 0 && branches.every((e) => e.keyword === 'type' && e.instancePath === last.instancePath)) {
      return `${where}${last.instancePath} must be ${branches.map((e) => String(e.params.type)).join(' or ')}`
    }
    const first = branches[0]
    if (first !== undefined) return describeOne(first, where)
  }
  return errors[0] === undefined ? `${where} is invalid` : describeOne(errors[0], where)
}
