import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers on real ports: files run in parallel processes, tests inside a file in order.
    pool: 'forks'
  }
})
