import { describe, expect, it, vi } from 'vitest'
import { runCli } from './cli-process.js'

// Each test starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

const BASE = ['validate', '--project', 'examples/kiln-project', '--dataset', '150621256807', '--system-message', 'Write a one-line joke about the topic.']

describe.concurrent('kiln-export validate', () => {
  it('prints the report summary and exits 1 when a split will not train on the provider', async () => {
    const result = await runCli([...BASE, '--format', 'openai_chat_json_schema_jsonl', '--profile', 'openai'])
    expect(result.code).toBe(1)
    const lines = result.stdout.toString('utf8').split('\n')
    expect(lines.slice(0, 2)).toEqual([
      'train [training]: FAILS (1 error, 2 warnings); 6 examples, 306 tokens; estimated 0.014688 USD (4,896 billed tokens, 16 epochs)',
      'test [test]: passes with warnings (0 errors, 2 warnings); 2 examples, 110 tokens'
    ])
    expect(lines).toContain('  train: error TOO_FEW_TRAINING_EXAMPLES: 6 examples: OpenAI supervised fine-tuning (chat) needs at least 10')
    expect(lines.filter((line) => line.startsWith('  train: warning PROFILE_CLOSING: OpenAI supervised fine-tuning (chat) is closing (announced 2026-05-07; no new jobs after 2027-01-06): '))).toHaveLength(1)
  })

  it('checks the OpenAI formats against Fireworks by default', async () => {
    const result = await runCli([...BASE, '--format', 'openai_chat_json_schema_jsonl'])
    expect(result.code).toBe(0)
    expect(result.stdout.toString('utf8')).toBe(
      'train [training]: passes (0 errors, 0 warnings); 6 examples, 306 tokens; 306 billed tokens (1 epoch), no price\n' +
      'test [test]: passes (0 errors, 0 warnings); 2 examples, 110 tokens\n')
  })

  it('exits 0 for a split that passes, and prints the whole report with --json', async () => {
    const result = await runCli([...BASE, '--format', 'huggingface_chat_template_jsonl', '--split', 'train', '--json'])
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout.toString('utf8')) as { status: string, splits: Array<{ name: string, line_count: number }> }
    expect(report.status).toBe('ok')
    expect(report.splits.map((s) => [s.name, s.line_count])).toEqual([['train', 6]])
  })

  it('exits 1 with the code for an unknown dataset, and 2 for an unknown profile', async () => {
    const unknown = await runCli(['validate', '--project', 'examples/kiln-project', '--dataset', '123', '--format', 'openai_chat_jsonl'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('code: KEX_DATASET_NOT_FOUND')
    const profile = await runCli([...BASE, '--format', 'openai_chat_jsonl', '--profile', 'anthropic'])
    expect(profile.code).toBe(2)
    expect(profile.stderr).toContain('--profile must be one of: openai, vertex_gemini, huggingface, fireworks, together')
  })

  it('exits 2 naming the option and the known models for a model the profile does not list', async () => {
    const result = await runCli([...BASE, '--format', 'openai_chat_jsonl', '--model', 'gpt-5'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('options/model gpt-5 is not one of the fireworks profile\'s models: gemma-4-26b-a4b-it, ')
  })
})
