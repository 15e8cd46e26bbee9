import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/*
 * The README names files (`src/format/registry.ts`, in "How it is built" and "Where to change
 * what"): each must exist, so a move that forgets the README fails here. Paths with a placeholder
 * (`<name>`) are templates and are skipped; so are hidden folders the bench creates (bench/.data/).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const README = await readFile(join(ROOT, 'README.md'), 'utf8')
const DOCS = [['README.md', README], ['BENCHMARKS.md', await readFile(join(ROOT, 'BENCHMARKS.md'), 'utf8')]] as const

/** Every `src/...`, `test/...`, `data/...`, `bench/...` or `scripts/...` path written in backticks. */
function namedPaths (text: string): string[] {
  const paths = new Set<string>()
  for (const match of text.matchAll(/`((?:src|test|data|bench|scripts|deploy|examples|openapi)\/[^`\s]*)`/g)) {
    const path = match[1] ?? ''
    // Templates, and what the bench or the build creates (bench/.data/, dist/).
    if (path.includes('<') || path.includes('*') || path.includes('/.')) continue
    paths.add(path.replace(/[.,:;)]+$/, ''))
  }
  return [...paths]
}

describe('the files the docs name exist', () => {
  for (const [name, text] of DOCS) {
    it(`${name}: every named file or folder is there`, () => {
      const paths = namedPaths(text)
      expect(paths.length).toBeGreaterThan(name === 'README.md' ? 20 : 0)
      const missing = paths.filter((path) => !existsSync(join(ROOT, path)))
      expect(missing).toEqual([])
    })
  }

  it('the "Where to change what" section names the registry, the strategies, the profiles, the sources and the routes', () => {
    const section = README.slice(README.indexOf('### Where to change what'))
    for (const file of ['src/format/registry.ts', 'src/format/strategies.ts', 'src/validate/providers.ts', 'src/source/catalog.ts', 'src/app.ts']) {
      expect(section).toContain(`\`${file}\``)
    }
  })
})
