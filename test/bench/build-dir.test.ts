import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { benchBuildRoot, ROOT_DIR } from '../../bench/lib/processes.js'

describe('the benchmark\'s build folder', () => {
  it('is one per checkout, so two checkouts benchmarking at once do not clobber each other', () => {
    expect(benchBuildRoot('/work/a', 0)).not.toBe(benchBuildRoot('/work/b', 0))
    expect(benchBuildRoot('/work/a', 0)).toBe(benchBuildRoot('/work/a', 0))
    expect(benchBuildRoot(ROOT_DIR).startsWith(tmpdir())).toBe(true)
  })
})
