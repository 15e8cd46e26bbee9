import { readFileSync } from 'node:fs'

/** The package version, written into each result's manifest (package.json is two folders above src/jobs and dist/jobs). */
export const SERVICE_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
