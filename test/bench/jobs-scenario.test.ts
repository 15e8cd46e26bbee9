import { describe, expect, it } from 'vitest'
import { parseOptions } from '../../bench/lib/options.js'
import { renderResults } from '../../bench/lib/report.js'
import { machineInfo, type Results } from '../../bench/lib/results.js'

const RESULTS: Results = {
  machine: machineInfo(),
  command: 'npm run bench -- --only jobs',
  server: 'dist',
  runs: 1,
  warmup: 0,
  largeRuns: 1,
  projects: [],
  mounted: [],
  wallSeconds: 1
}

describe('the bench\'s jobs scenario', () => {
  it('runs only when --only names it, with 8 jobs of the 100k project (4 of 2k with --quick) drained by 1 and by 2 workers', () => {
    expect(parseOptions([]).only.has('jobs')).toBe(false)
    expect(parseOptions(['--quick']).only.has('jobs')).toBe(false)
    const full = parseOptions(['--only', 'jobs'])
    expect([...full.only]).toEqual(['jobs'])
    expect([full.jobs, full.jobsAt, full.jobWorkers]).toEqual([8, 100_000, [1, 2]])
    const quick = parseOptions(['--only', 'jobs', '--quick'])
    expect([quick.jobs, quick.jobsAt, quick.jobWorkers]).toEqual([4, 2000, [1, 2]])
    expect(parseOptions(['--only', 'jobs', '--jobs', '20', '--job-workers', '1,2,4']).jobWorkers).toEqual([1, 2, 4])
  })

  it('reports a skip with its reason, and a drain as a table with each worker\'s peak RSS', () => {
    expect(renderResults({ ...RESULTS, jobs: { runs: 2000, lines: 1600, skipped: 'POST /exports answered 404', rounds: [] } }))
      .toContain('Skipped: POST /exports answered 404.')
    const text = renderResults({
      ...RESULTS,
      jobs: {
        runs: 100_000,
        lines: 80_000,
        rounds: [
          { workers: 1, jobs: 8, wallMs: 40_000, firstDoneMs: 5500, loadAvg: 1, workerPeakRss: [150 * 1024 * 1024], workerCpuS: [38], apiPeakRss: 90 * 1024 * 1024, verified: 8 },
          { workers: 2, jobs: 8, wallMs: 20_000, firstDoneMs: 5600, loadAvg: 1.5, workerPeakRss: [140 * 1024 * 1024, 145 * 1024 * 1024], workerCpuS: [19, 20], apiPeakRss: 90 * 1024 * 1024, verified: 8 }
        ]
      }
    })
    expect(text).toContain('### Export jobs: a queue of 100,000-run exports drained by worker processes')
    expect(text).toMatch(/\| 2 \| 8 \| 20\.0\d* \| 5\.6\d* \| 0\.40 \| 2\.00× \| 140\.0, 145\.0 \|/)
  })
})
