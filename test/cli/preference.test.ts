import { describe, expect, it, vi } from 'vitest'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { runCli } from './cli-process.js'

// Each test starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

const ID = '100000000001'

describe('kiln-export export with a preference format', () => {
  it('pairs by --pair-by rating, writes the pairs and says how many runs were skipped', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1', { input: 'Q', output: 'good', rating: { type: 'pass_fail', value: 1 } })
    await project.writeRun('2', { input: 'Q', output: 'bad', rating: { type: 'pass_fail', value: 0 } })
    await project.writeRun('3')
    await project.writeSplit(ID, { train: ['1', '2', '3'] })
    const args = ['export', '--project', project.root, '--dataset', ID, '--split', 'train', '--format', 'huggingface_preference_jsonl', '--system-message', 'S']
    const rated = await runCli([...args, '--pair-by', 'rating'])
    expect(rated.stderr).toBe('kiln-export: 1 run skipped: no preference pair (kiln-export validate lists them)\n')
    expect(rated.code).toBe(0)
    expect(rated.stdout.toString('utf8')).toBe(
      '{"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}]}\n')
    // By repair (the default) nothing pairs: a data error, nothing written.
    const repaired = await runCli(args)
    expect(repaired.code).toBe(1)
    expect(repaired.stdout.length).toBe(0)
    expect(repaired.stderr).toContain('KEX_NO_PREFERENCE_PAIRS')
    const usage = await runCli([...args, '--pair-by', 'stars'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain("--pair-by must be one of: repair, rating (got 'stars')")
  })
})
