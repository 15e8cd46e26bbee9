import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { type RunIdList } from '../../src/format/index.js'
import { decodeProject, decodeSplitFile, decodeTask, decodeTaskRunFile, type ProjectFile, type SplitRecord, type TaskFile } from '../../src/source/kiln/index.js'
import { datasetSummary, openCatalog, type DatasetSource, type DatasetSummary, type ProjectsCatalog, type RunLookup } from '../../src/source/index.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * The contract of src/source/types.ts, tried: a source of Kiln projects that is not a folder (its
 * files come as bytes by key, as from an object store or a git tree) implements ProjectsCatalog,
 * decodes with src/source/kiln/, and answers like the mounted folder over the same files.
 */

/** Every file under `dir`, by its path relative to `dir`. */
async function readTree (dir: string, prefix = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) for (const [k, v] of await readTree(dir, key)) files.set(k, v)
    else files.set(key, await readFile(join(dir, key)))
  }
  return files
}

/** One project at the top of a key space; happy paths only (a real source reports problems too). */
function keyedSource (files: ReadonlyMap<string, Buffer>): ProjectsCatalog {
  const json = (key: string): unknown => JSON.parse(files.get(key)?.toString('utf8') ?? 'null')
  const record = <T>(decoded: { record: T } | { detail: string }): T => {
    if ('detail' in decoded) throw new Error(decoded.detail)
    return decoded.record
  }
  const splits = (): Array<{ split: SplitRecord, project: ProjectFile, task: TaskFile, taskKey: string }> => {
    const project = record(decodeProject(json('project.kiln')))
    return [...files.keys()].filter((key) => key.endsWith('/dataset_split.kiln')).map((key) => {
      const taskKey = key.split('/').slice(0, 2).join('/')
      return { split: record(decodeSplitFile(files.get(key) ?? Buffer.alloc(0))), project, task: record(decodeTask(json(`${taskKey}/task.kiln`))), taskKey }
    })
  }
  return {
    async find (id): Promise<DatasetSource | undefined> {
      const found = splits().find((s) => s.split.id === id)
      if (found === undefined) return undefined
      return {
        split: found.split,
        async * runs (ids: RunIdList): AsyncIterable<readonly RunLookup[]> {
          yield Array.from(ids, (runId): RunLookup => {
            const bytes = files.get(`${found.taskKey}/runs/${runId}/task_run.kiln`)
            return bytes === undefined ? { id: runId, status: 'missing' } : decodeTaskRunFile(runId, bytes.toString('utf8'))
          })
        }
      }
    },
    async describe (id): Promise<DatasetSummary | undefined> {
      const found = splits().find((s) => s.split.id === id)
      return found === undefined ? undefined : datasetSummary(found)
    },
    async list () {
      return { datasets: splits().map(datasetSummary), problems: [] }
    },
    async projectDirs () {
      return ['.']
    }
  }
}

/** A copy of the example project, `change`d, mounted and keyed. */
async function bothSources (change?: (dir: string) => Promise<void>): Promise<{ mounted: ProjectsCatalog, keyed: ProjectsCatalog }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-new-source-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  await cp(EXAMPLE_PROJECT_DIR, dir, { recursive: true })
  await change?.(dir)
  return { mounted: openCatalog({ projectsDir: dir }), keyed: keyedSource(await readTree(dir)) }
}

async function answers (catalog: ProjectsCatalog): Promise<unknown[]> {
  const { client } = await startServer({}, { catalog })
  const list = await client.request({ method: 'GET', path: '/datasets' })
  const exported = await postJson(client, '/datasets/150621256807/export', { split_name: 'train', format: 'openai_chat_json_schema_jsonl', system_message: 'S' })
  return [list.statusCode, await list.body.json(), exported.status, exported.text]
}

describe('a new source of Kiln projects', () => {
  it('lists and exports what the mounted folder does, from the same files', async () => {
    const { mounted, keyed } = await bothSources()
    const fromMount = await answers(mounted)
    expect(fromMount[0]).toBe(200)
    expect(fromMount[2]).toBe(200)
    expect(await answers(keyed)).toEqual(fromMount)
  })

  it('refuses a run that is not a Kiln task run with the mounted folder\'s message', async () => {
    const { mounted, keyed } = await bothSources(async (dir) => {
      const runs = join(dir, 'tasks', '249026891730 - Joke Generator', 'runs')
      const [first] = await readdir(runs)
      const file = join(runs, first ?? '', 'task_run.kiln')
      await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')) as object, input: 5 }))
    })
    const fromMount = await answers(mounted)
    expect(fromMount[2]).toBe(422)
    expect(await answers(keyed)).toEqual(fromMount)
  })
})
