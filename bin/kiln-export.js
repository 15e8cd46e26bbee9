#!/usr/bin/env node
// The `kiln-export` command. In a checkout with dev dependencies it runs the TypeScript source
// through tsx (never a stale build); otherwise the compiled dist/cli/main.js (`npm run build`).
import { existsSync } from 'node:fs'

const source = new URL('../src/cli/main.ts', import.meta.url)
const compiled = new URL('../dist/cli/main.js', import.meta.url)

async function loadTsx () {
  try {
    return await import('tsx/esm/api')
  } catch {
    return undefined
  }
}

const tsx = existsSync(source) ? await loadTsx() : undefined
if (tsx !== undefined) {
  tsx.register()
  await import(source.href)
} else if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  process.stderr.write('kiln-export: dist/cli/main.js is missing: run `npm run build` (or `npm ci` for tsx)\n')
  process.exitCode = 1
}
