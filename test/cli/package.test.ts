import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { ROOT } from './cli-process.js'

// Starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

const run = promisify(execFile)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string
  bin: Record<string, string>
  exports: Record<string, string | { types: string, default: string }>
  scripts: Record<string, string>
}
const buildConfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string, outDir: string, declaration?: boolean } }

/** The source file the build compiles to `dist/<path>.js` (tsconfig.build.json: src -> dist). */
function sourceOf (distPath: string): string {
  const { rootDir, outDir } = buildConfig.compilerOptions
  return distPath.replace(/^\.\//, '').replace(new RegExp(`^${outDir}/`), `${rootDir}/`).replace(/\.d\.ts$|\.js$/, '.ts')
}

describe('package.json', () => {
  it('has a kiln-export bin that runs the CLI from a checkout', async () => {
    const bin = pkg.bin['kiln-export']
    expect(bin).toBe('bin/kiln-export.js')
    const path = join(ROOT, bin ?? '')
    accessSync(path, constants.X_OK)
    expect(readFileSync(path, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
    const { stdout } = await run(path, ['--version'], { cwd: ROOT })
    expect(stdout).toBe(`${pkg.version}\n`)
  })

  it('runs the CLI with `npm run cli --`', () => {
    expect(pkg.scripts.cli).toBe('tsx src/cli/main.ts')
  })

  it('exports the app as "." and the client as "./client", compiled with type declarations', () => {
    expect(buildConfig.compilerOptions.declaration).toBe(true)
    expect(pkg.exports['./client']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' })
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      expect(existsSync(join(ROOT, sourceOf(target.default))), `${name} -> ${target.default}`).toBe(true)
      expect(sourceOf(target.types)).toBe(sourceOf(target.default))
    }
  })
})
