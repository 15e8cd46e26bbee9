import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { expectedHasNonFinite, loadFixtures, type ConformanceCase, type Fixture } from '../helpers/conformance.js'
import { postJson, startServer } from '../helpers/server.js'
import { runCli } from './cli-process.js'

/*
 * `kiln-export export` as a real process: the same bytes as Kiln (the conformance fixtures' project
 * folders) and as the HTTP API, and the same refusals, found before anything is written.
 */

// Each test starts node + tsx: allow for a loaded machine.
vi.setConfig({ testTimeout: 90_000 })

const EXAMPLE_ID = '150621256807'
const fixtures = loadFixtures()

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-cli-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** The CLI arguments of a conformance case, read from the fixture's project folder. */
function caseArgs (fixture: Fixture, testCase: ConformanceCase): string[] {
  return [
    'export',
    '--project', join(fixture.dir, 'project'),
    '--dataset', testCase.dataset_split_id,
    '--split', testCase.split_name,
    '--format', testCase.format,
    '--strategy', testCase.data_strategy,
    '--system-message', testCase.system_message,
    ...(testCase.thinking_instructions === null ? [] : ['--thinking-instructions', testCase.thinking_instructions])
  ]
}

function expectedText (fixture: Fixture, testCase: ConformanceCase): string {
  return readFileSync(join(fixture.dir, testCase.expected), 'utf8')
}

/**
 * One ok case per format and fixture: the main dataset split with chain-of-thought turns (so the
 * strategy and thinking instructions are passed too). Cases where Kiln wrote NaN are skipped: the
 * API refuses them on purpose, and the conformance tests cover that.
 */
function okCases (fixture: Fixture): ConformanceCase[] {
  const byFormat = new Map<string, ConformanceCase>()
  for (const c of fixture.cases) {
    if (c.result !== 'ok' || byFormat.has(c.format) || c.dataset_split_key !== 'main' || c.data_strategy !== 'final_and_intermediate' || c.thinking_instructions === null) continue
    if (expectedHasNonFinite(c.format, expectedText(fixture, c))) continue
    byFormat.set(c.format, c)
  }
  return [...byFormat.values()]
}

function errorCase (fixture: Fixture, kind: string): ConformanceCase | undefined {
  return fixture.cases.find((c) => c.result === 'error' && c.error_kind === kind)
}

function kilnError (fixture: Fixture, testCase: ConformanceCase): { message: string } {
  return JSON.parse(readFileSync(join(fixture.dir, testCase.expected), 'utf8')) as { message: string }
}

describe('kiln-export export, on the conformance fixtures\' Kiln projects', () => {
  for (const fixture of fixtures) {
    describe.concurrent(fixture.name, () => {
      for (const testCase of okCases(fixture)) {
        it(`writes Kiln's bytes to stdout for ${testCase.case_id}`, async () => {
          const result = await runCli(caseArgs(fixture, testCase))
          expect(result.stderr).toBe('')
          expect(result.code).toBe(0)
          expect(fixture.mask(result.stdout.toString('utf8'))).toBe(fixture.mask(expectedText(fixture, testCase)))
        })
      }
    })
  }

  it('writes the same bytes with -o, into the named file only', async () => {
    const fixture = fixtures.find((f) => f.name === 'f2_recipe_extraction')
    const testCase = fixture === undefined ? undefined : okCases(fixture).find((c) => c.format === 'vertex_gemini_1_5')
    if (fixture === undefined || testCase === undefined) throw new Error('fixture case not found')
    const dir = await tempDir()
    const result = await runCli([...caseArgs(fixture, testCase), '-o', join(dir, 'out.jsonl')])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.length).toBe(0)
    // stderr is not a terminal here: no progress counter.
    expect(result.stderr).toBe('')
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(expectedText(fixture, testCase))
    expect(await readdir(dir)).toEqual(['out.jsonl'])
  })

  it('reads the system message from a file, dropping one final newline', async () => {
    const fixture = fixtures.find((f) => f.name === 'f2_recipe_extraction')
    const testCase = fixture?.cases.find((c) => c.result === 'ok' && c.format === 'openai_chat_jsonl' && c.data_strategy === 'final_only' && c.system_message.includes('\n'))
    if (fixture === undefined || testCase === undefined) throw new Error('fixture case not found')
    const dir = await tempDir()
    await writeFile(join(dir, 'system.txt'), `${testCase.system_message}\n`)
    const args = caseArgs(fixture, testCase)
    const at = args.indexOf('--system-message')
    args.splice(at, 2, '--system-message-file', join(dir, 'system.txt'))
    const result = await runCli(args)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.toString('utf8')).toBe(expectedText(fixture, testCase))
  })
})

describe('kiln-export export refuses data like the API', () => {
  const f1 = fixtures.find((f) => f.name === 'f1_support_replies')
  const f2 = fixtures.find((f) => f.name === 'f2_recipe_extraction')
  if (f1 === undefined || f2 === undefined) throw new Error('conformance fixtures missing')

  /** Run an error case with -o into an empty folder: nothing may be left there. */
  async function refused (fixture: Fixture, kind: string): Promise<{ stderr: string, code: number | null, kiln: { message: string }, testCase: ConformanceCase }> {
    const testCase = errorCase(fixture, kind)
    if (testCase === undefined) throw new Error(`no ${kind} case in ${fixture.name}`)
    const dir = await tempDir()
    const result = await runCli([...caseArgs(fixture, testCase), '-o', join(dir, 'out.jsonl')])
    expect(result.stdout.length).toBe(0)
    expect(await readdir(dir)).toEqual([])
    return { stderr: result.stderr, code: result.code, kiln: kilnError(fixture, testCase), testCase }
  }

  it('exits 1 with every missing run id, and writes no file', async () => {
    const { stderr, code, kiln } = await refused(f2, 'missing_task_run')
    const missingId = kiln.message.replace(/'/g, '')
    expect(code).toBe(1)
    expect(stderr).toContain(`kiln-export: Task run ${missingId} not found. This is required by this dataset.\n`)
    expect(stderr).toContain('  code: KEX_TASK_RUN_NOT_FOUND\n')
    expect(stderr).toContain(`  run ids (1): ${missingId}\n`)
  })

  it('exits 1 with Kiln\'s JSON decoder message and the run id for an output that is not JSON', async () => {
    const { stderr, code, kiln } = await refused(f2, 'output_not_json')
    expect(code).toBe(1)
    expect(stderr).toContain(`kiln-export: ${kiln.message}\n`)
    expect(stderr).toContain('  code: KEX_OUTPUT_NOT_JSON\n')
    expect(stderr).toMatch(/ {2}run ids \(1\): \d+\n/)
  })

  it('exits 1 with Kiln\'s message when thinking instructions are missing', async () => {
    const { stderr, code, kiln } = await refused(f1, 'thinking_instructions_required')
    expect(code).toBe(1)
    expect(stderr).toContain(`kiln-export: ${kiln.message}\n`)
    expect(stderr).toContain('  code: KEX_THINKING_INSTRUCTIONS_REQUIRED\n')
  })

  it('exits 1 for a lone surrogate, which Kiln would crash on mid-file', async () => {
    const { stderr, code, kiln } = await refused(f2, 'unencodable_output')
    expect(code).toBe(1)
    expect(stderr).toContain(`kiln-export: ${kiln.message}\n`)
    expect(stderr).toContain('  code: KEX_UNENCODABLE_TEXT\n')
  })

  it('exits 1 with Kiln\'s message for an unknown split name', async () => {
    const { stderr, code, kiln } = await refused(f2, 'unknown_split')
    expect(code).toBe(1)
    // Kiln's message first, then the dataset and its split names.
    expect(stderr).toMatch(new RegExp(`^kiln-export: ${kiln.message} "[^"]*" \\(\\d+\\): its splits are: .*\n  code: KEX_SPLIT_NOT_FOUND\n$`))
  })

  it('exits 2 for a format Kiln does not know, listing the formats', async () => {
    const { stderr, code, testCase } = await refused(f1, 'unsupported_format')
    expect(code).toBe(2)
    expect(stderr).toContain(`kiln-export: --format must be one of: openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl, huggingface_chat_template_jsonl, huggingface_chat_template_toolcall_jsonl, vertex_gemini_1_5, bedrock_conversation_jsonl, openai_preference_jsonl, huggingface_preference_jsonl, vertex_gemini_preference, vertex_gemini (got '${testCase.format}')\n`)
    expect(stderr).toContain('Run \'kiln-export export --help\' for usage.\n')
  })

  it('exits 1 for a dataset split that is not in the project', async () => {
    const result = await runCli(['export', '--project', EXAMPLE_PROJECT_DIR, '--dataset', '999999999999', '--split', 'train', '--format', 'openai_chat_jsonl', '--system-message', ''])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('kiln-export: Dataset split 999999999999 not found in the Kiln projects under ')
    expect(result.stderr).toContain('  code: KEX_DATASET_NOT_FOUND\n')
  })

  it('leaves an existing output file untouched when the export is refused', async () => {
    const testCase = errorCase(f2, 'missing_task_run')
    if (testCase === undefined) throw new Error('no missing_task_run case')
    const dir = await tempDir()
    await writeFile(join(dir, 'out.jsonl'), 'the previous export\n')
    const result = await runCli([...caseArgs(f2, testCase), '-o', join(dir, 'out.jsonl')])
    expect(result.code).toBe(1)
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('the previous export\n')
    expect(await readdir(dir)).toEqual(['out.jsonl'])
  })
})

describe('kiln-export export on the example project', () => {
  it('writes what POST /datasets/{id}/export answers, byte for byte', async () => {
    const params = {
      split_name: 'train',
      format: 'openai_chat_json_schema_jsonl',
      data_strategy: 'final_and_intermediate',
      system_message: 'Write a one-line joke about the topic.',
      thinking_instructions: 'Brainstorm three angles first.'
    }
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const [api, cli] = await Promise.all([
      postJson(client, `/datasets/${EXAMPLE_ID}/export`, params),
      runCli(['export', '--project', 'examples/kiln-project', '--dataset', EXAMPLE_ID, '--split', 'train',
        '--format', params.format, '--strategy', params.data_strategy,
        '--system-message', params.system_message, '--thinking-instructions', params.thinking_instructions])
    ])
    expect(api.status).toBe(200)
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stdout.toString('utf8')).toBe(api.text)
    expect(api.text.split('\n')).toHaveLength(7)
  })

  it('exports R1 for Vertex under Kiln\'s current name, and exits 1 with Kiln\'s message for runs without thinking', async () => {
    const result = await runCli(['export', '--project', 'examples/kiln-project', '--dataset', EXAMPLE_ID, '--split', 'train',
      '--format', 'vertex_gemini', '--strategy', 'final_and_intermediate_r1_compatible', '--system-message', ''])
    if (result.code === 0) {
      expect(result.stdout).toContain('<think>')
    } else {
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('Thinking data is required when fine-tuning thinking models')
      expect(result.stdout.length).toBe(0)
    }
  })
})
