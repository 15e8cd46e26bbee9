import { readFileSync } from 'node:fs'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { DOCKERFILE_TEXT } from './dockerfile.js'

/*
 * What we declare (`engines.node`), what we install (package-lock.json), what the image runs and
 * what the README tells a newcomer must agree: `npm ci` on the oldest Node we name prints no
 * EBADENGINE warning, and the image's Node is one we declare.
 */

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const PACKAGE = JSON.parse(read('package.json')) as { engines: { node: string } }
const LOCK = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: unknown }> }
const README = read('README.md')
const DECLARED = PACKAGE.engines.node
const OLDEST = semver.minVersion(DECLARED)?.version ?? ''

/** Locked packages whose `engines.node` refuses the given Node version, as `name: range`. */
function refusing (lock: typeof LOCK, version: string): string[] {
  return Object.entries(lock.packages).flatMap(([path, entry]) => {
    const engines = entry.engines
    if (typeof engines !== 'object' || engines === null || !('node' in engines)) return []
    const range = engines.node
    if (typeof range !== 'string') return []
    return semver.satisfies(version, range) ? [] : [`${path === '' ? 'kiln-export' : path.replace(/^.*node_modules\//, '')}: ${range}`]
  })
}

describe('engines', () => {
  it('declares Node 20.19 or newer, the version the README names', () => {
    expect(OLDEST).toBe('20.19.0')
    expect(README).toContain('Node.js 20.19 or newer')
  })

  it('locks only dependencies that accept the oldest declared Node (npm ci prints no EBADENGINE)', () => {
    expect(refusing(LOCK, OLDEST)).toEqual([])
    // The check can fail: a dependency that wants Node 22 is caught.
    const broken = { packages: { ...LOCK.packages, 'node_modules/cookie': { engines: { node: '>=22' } } } }
    expect(refusing(broken, OLDEST)).toEqual(['cookie: >=22'])
  })

  it('builds the image on a Node major the package declares, and the README names it', () => {
    const majors = [...DOCKERFILE_TEXT.matchAll(/^FROM node:(\d+)[-\w.]*/gm)].map((m) => m[1] ?? '')
    expect(majors.length).toBeGreaterThan(0)
    for (const major of majors) {
      expect(semver.satisfies(`${major}.99.0`, DECLARED)).toBe(true)
      expect(README).toContain(`The image runs Node.js ${major}`)
    }
  })
})
