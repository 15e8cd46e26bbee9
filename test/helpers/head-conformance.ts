import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFORMANCE_DIR, exportParams, type ConformanceCase } from './conformance.js'

/*
 * Kiln HEAD's goldens (test/fixtures/conformance/head, copied from shared/conformance/head): every
 * case of the two visible fixtures under all three strategies Kiln runs today, and the side probes
 * (traces, tool definitions, hidden runs). head/README.md says how to replay and compare them.
 */

export const HEAD_DIR = join(CONFORMANCE_DIR, 'head')

interface KilnExport {
  readonly expect: 'ok' | 'error'
  readonly why: string
  readonly must_name_runs?: readonly string[]
  readonly seed_expected?: string
  readonly seed_expected_line?: number
  readonly message_contains?: string
  readonly message_contains_one_of?: readonly string[]
}

/** A HEAD case: the seed case's fields plus where it points and what kiln-export expects instead. */
export interface HeadCase extends ConformanceCase {
  readonly fixture_root: string
  readonly dataset_split_file?: string
  readonly kiln_export?: KilnExport
}

export interface HeadFixture {
  readonly name: string
  /** The manifest's folder (test/fixtures/conformance/head/<name>). */
  readonly dir: string
  /** The seed fixture folder its paths point into. */
  readonly root: string
  readonly cases: readonly HeadCase[]
  /** Where the per_run split is stored in a copy of the project (relative to the fixture root). */
  readonly perRunMountPath: string
  readonly mask: (text: string) => string
}

interface RandomField { readonly mask_regex: string, readonly mask_replacement: string }

function masker (fields: readonly RandomField[]): (text: string) => string {
  const masks = fields.map((f) => ({ regex: new RegExp(f.mask_regex, 'g'), replacement: f.mask_replacement.replace(/\\(\d)/g, '$$$1') }))
  return (text) => masks.reduce((acc, m) => acc.replace(m.regex, m.replacement), text)
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

export function loadHeadFixtures (): HeadFixture[] {
  return ['f1_support_replies', 'f2_recipe_extraction'].map((name) => {
    const dir = join(HEAD_DIR, name)
    const manifest = readJson<{
      fixture_root: string
      cases: HeadCase[]
      random_fields: RandomField[]
      dataset_splits: { per_run: { mount_path: string } }
    }>(join(dir, 'manifest.json'))
    return {
      name,
      dir,
      root: resolve(dir, manifest.fixture_root),
      cases: manifest.cases,
      perRunMountPath: manifest.dataset_splits.per_run.mount_path,
      mask: masker(manifest.random_fields)
    }
  })
}

const params = exportParams

/** The inline request of a case: its parameters, the inline Kiln objects, the per_run split when it uses it. */
export function headInlineBody (fixture: HeadFixture, c: HeadCase): Record<string, unknown> {
  const inline = readJson<Record<string, unknown>>(join(fixture.root, c.inline_request))
  const split = c.dataset_split_file === undefined ? {} : { dataset_split: readJson<unknown>(join(fixture.dir, c.dataset_split_file)) }
  return { ...params(c), ...inline, ...split }
}

/** The mounted request of a case: the parameters alone. */
export const headMountedBody = params

/** A copy of the fixture's Kiln project with the per_run split stored where Kiln stores it; removed by `cleanup`. */
export function mountHeadProject (fixture: HeadFixture): { root: string, cleanup: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), `kex-head-${fixture.name}-`))
  cpSync(join(fixture.root, 'project'), join(tmp, 'project'), { recursive: true })
  const splitPath = join(tmp, fixture.perRunMountPath)
  mkdirSync(dirname(splitPath), { recursive: true })
  writeFileSync(splitPath, readFileSync(join(fixture.dir, 'dataset_splits', 'per_run.json')))
  return { root: join(tmp, 'project'), cleanup: () => rmSync(tmp, { recursive: true, force: true }) }
}

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  readonly json: () => unknown
}

interface ErrorBody { code: string, message: string, run_ids?: string[] }

/** The expected lines of an ok case: Kiln HEAD's file, or the seed's where the manifest says so. */
function expectedText (fixture: HeadFixture, c: HeadCase): string {
  const ke = c.kiln_export
  if (ke?.why === 'seed_final_only' && ke.seed_expected !== undefined) {
    const seed = readFileSync(resolve(fixture.dir, ke.seed_expected), 'utf8')
    if (ke.seed_expected_line === undefined) return seed
    return `${seed.split('\n')[ke.seed_expected_line - 1] ?? ''}\n`
  }
  return readFileSync(join(fixture.dir, c.expected), 'utf8')
}

/**
 * Register one test per HEAD case, compared as head/README.md says: ok cases byte for byte (after
 * masking); error cases a 4xx JSON error carrying Kiln's message for the first failing run, never
 * JSONL; `kiln_export` where we deliberately differ.
 */
export function describeHeadConformance (fixture: HeadFixture, send: (c: HeadCase) => Promise<Answer>): void {
  describe(`${fixture.name} (Kiln HEAD)`, () => {
    for (const c of fixture.cases) {
      const expectOk = (c.kiln_export?.expect ?? c.result) === 'ok'
      it(`${c.case_id} ${expectOk ? 'matches Kiln\'s bytes' : `is refused like Kiln (${c.kiln_export?.why ?? c.error_kind ?? ''})`}`, async () => {
        const answer = await send(c)
        if (expectOk) {
          expect(answer.status, answer.text.slice(0, 500)).toBe(200)
          expect(answer.headers['content-type']).toBe('application/jsonl; charset=utf-8')
          expect(fixture.mask(answer.text)).toBe(fixture.mask(expectedText(fixture, c)))
          return
        }
        expect(answer.status, answer.text.slice(0, 500)).toBeGreaterThanOrEqual(400)
        expect(answer.status).toBeLessThan(500)
        expect(answer.headers['content-type']).toMatch(/^application\/json/)
        expect(answer.headers['content-disposition']).toBeUndefined()
        const body = answer.json() as ErrorBody
        expect(body.code).toMatch(/^KEX_/)
        const ke = c.kiln_export
        switch (ke?.why) {
          case undefined:
            // Kiln's whole message, Python's json decoder text included, for the first failing run.
            expect(body.message).toContain(c.message)
            if (c.error_kind !== 'unknown_split') expect(body.run_ids?.length).toBeGreaterThan(0)
            break
          case 'missing_run':
          case 'nonfinite_number':
          case 'lone_surrogate':
            expect(answer.status).toBe(422)
            for (const id of ke.must_name_runs ?? []) expect(body.run_ids).toContain(id)
            break
          case 'seed_final_only_wording':
            expect(body.message).toContain(ke.message_contains)
            expect((ke.message_contains_one_of ?? []).some((m) => body.message.includes(m))).toBe(true)
            break
          case 'unsupported_format':
            expect(answer.status).toBe(400)
            break
          default:
            throw new Error(`unknown kiln_export.why ${String(ke?.why)}`)
        }
      })
    }
  })
}

/** The side probes (head/side_probes.json): one-run splits exported by Kiln HEAD for each variant. */
export interface SideProbes {
  readonly system_message: string
  readonly thinking_instructions: Record<string, string | null>
  readonly project: Record<string, unknown> & { id: string }
  readonly task: Record<string, unknown> & { id: string, name: string }
  readonly task_runs: Array<Record<string, unknown> & { id: string }>
  readonly variants: Record<string, {
    readonly kiln_export: 'match' | 'differs' | 'not_replayed'
    readonly run_id?: string
    readonly dataset_split: Record<string, unknown> & { id: string, name: string }
    readonly request_tools: unknown[] | null
    readonly results: Record<string, { result: 'ok', line: string } | { result: 'error', message: string }>
  }>
  readonly random_fields: RandomField[]
}

export function loadSideProbes (): SideProbes & { mask: (text: string) => string } {
  const probes = readJson<SideProbes>(join(HEAD_DIR, 'side_probes.json'))
  return { ...probes, mask: masker(probes.random_fields) }
}

/** Write the side probes as a Kiln project tree (project, task, every run, every variant's split). */
export function mountSideProbes (probes: SideProbes): { root: string, cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'kex-probes-'))
  const write = (path: string, value: unknown): void => {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, JSON.stringify(value, null, 2))
  }
  write(join(root, 'project.kiln'), probes.project)
  const taskDir = join(root, 'tasks', `${probes.task.id} - ${probes.task.name}`)
  write(join(taskDir, 'task.kiln'), probes.task)
  for (const run of probes.task_runs) write(join(taskDir, 'runs', run.id, 'task_run.kiln'), run)
  for (const variant of Object.values(probes.variants)) {
    const split = variant.dataset_split
    write(join(taskDir, 'dataset_splits', `${split.id} - ${split.name}`, 'dataset_split.kiln'), split)
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}
