import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers on real ports: files run in parallel processes, tests inside a file in order.
    pool: 'forks',
    // CI also keeps a machine-readable report (.ci/run prints its totals as the closing line).
    reporters: process.env.CI === 'true' ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]] : ['default']
  }
})
