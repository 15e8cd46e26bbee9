import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
/** What `kiln-export/client` may load at run time: its own files and the JSONL helpers. */
const ALLOWED_DIRS = ['src/client', 'src/jsonl']

/** The modules a file loads at run time (`import type` is erased; `import { type X }` is not, under verbatimModuleSyntax). */
function runtimeImports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(import|export)(?! type )[^;'"]*?from '([^']+)'/gm)].map((match) => match[2] ?? '')
}

describe('the published client (kiln-export/client)', () => {
  it('loads no server module at run time: only src/client, src/jsonl and packages', () => {
    const seen = new Set<string>()
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      for (const spec of runtimeImports(file)) {
        if (!spec.startsWith('.')) continue
        visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
      }
    }
    for (const name of readdirSync(join(ROOT, 'src/client'))) visit(join(ROOT, 'src/client', name))
    const outside = [...seen].map((file) => relative(ROOT, file)).filter((file) => !ALLOWED_DIRS.some((dir) => file.startsWith(`${dir}/`)))
    expect(outside).toEqual([])
  })
})
