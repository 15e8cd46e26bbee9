import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'
import { type TSchema } from 'typebox'
import { ConfigError } from '../config.js'
import { PriceTableSchema, ProviderProfilesSchema, type PriceTable, type ProviderProfiles, type ReferenceData } from './profiles.js'

/*
 * The one module of validate/ that reads the disk: the provider profiles and price table the
 * report checks against, validated against their schemas (profiles.ts) once, at startup.
 */

/** The data files shipped with the service (src/validate/ and dist/validate/ both sit two levels below the root). */
export const DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url))
export const PROFILES_FILE = `${DATA_DIR}provider-profiles.json`
export const DEFAULT_PRICES_FILE = `${DATA_DIR}prices.json`

const ajv = new Ajv({ allErrors: false, strict: false })
const validators = new Map<TSchema, ValidateFunction>()

async function readJson<T> (path: string, schema: TSchema, what: string): Promise<T> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`${what} ${path} cannot be read as JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  let validate = validators.get(schema)
  if (validate === undefined) {
    validate = ajv.compile(schema)
    validators.set(schema, validate)
  }
  if (!validate(value)) {
    const error = validate.errors?.[0]
    throw new ConfigError(`${what} ${path} is not valid: ${error?.instancePath || '/'} ${error?.message ?? 'is invalid'}`)
  }
  return value as T
}

/**
 * Load the provider profiles and the price table (PRICES_FILE when set, used instead of
 * data/prices.json). Throws ConfigError naming the file when one is unreadable or malformed.
 */
export async function loadReferenceData (pricesFile?: string): Promise<ReferenceData> {
  const [profiles, prices] = await Promise.all([
    readJson<ProviderProfiles>(PROFILES_FILE, ProviderProfilesSchema, 'The provider profiles file'),
    readJson<PriceTable>(pricesFile ?? DEFAULT_PRICES_FILE, PriceTableSchema, pricesFile === undefined ? 'The price table' : 'PRICES_FILE')
  ])
  return { profiles, prices, pricesName: pricesFile === undefined ? 'data/prices.json' : 'PRICES_FILE' }
}
