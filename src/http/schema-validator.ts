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
    // Errors carry the offending value, so an unknown enum value gets a "did you mean".
    verbose: true,
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

/** Levenshtein distance, for "did you mean" (names here are short). */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The allowed value closest to `value` (case-insensitive), when it is close enough to be a typo. */
export function closestValue (value: unknown, allowed: readonly unknown[]): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  const wanted = value.toLowerCase()
  let best: { name: string, distance: number } | undefined
  for (const candidate of allowed.map(String)) {
    const name = candidate.toLowerCase()
    // A prefix or part of a name (`openai_chat`, `vertex`) counts as close.
    const distance = name.includes(wanted) || wanted.includes(name) ? Math.abs(name.length - wanted.length) / 4 : editDistance(wanted, name)
    if (best === undefined || distance < best.distance) best = { name: candidate, distance }
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(wanted.length / 3)) ? best.name : undefined
}

function describeOne (error: ErrorObject, where: string): string {
  const path = `${where}${error.instancePath}`
  switch (error.keyword) {
    case 'required':
      return `${path}/${String(error.params.missingProperty)} is required`
    case 'additionalProperties':
      return `${path} has an unknown property '${String(error.params.additionalProperty)}'`
    case 'enum': {
      const allowed = error.params.allowedValues as unknown[]
      const suggestion = closestValue(error.data, allowed)
      return `${path} must be one of: ${allowed.map(String).join(', ')}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`
    }
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
