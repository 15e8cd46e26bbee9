import { cp, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { type Client } from 'undici'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Kiln ids are unique, so a dataset split id found twice under the mounted folder means a copied
 * project or split folder: which one to export is a guess, so every request for that id is
 * refused with 409 and the listing shows both, marked.
 */

const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }
const SPLIT = 'tasks/222222222222 - Test Task/dataset_splits/900000000001 - Test split/dataset_split.kiln'

async function getJson (client: Client, path: string): Promise<{ status: number, body: unknown }> {
  const response = await client.request({ method: 'GET', path })
  return { status: response.statusCode, body: await response.body.json() }
}

describe('a dataset split id in two mounted projects', () => {
  it('is refused with 409 naming both places, and listed twice, marked ambiguous', async () => {
    const alpha = await makeKilnProject({ nested: true, name: 'Alpha' })
    await alpha.writeRun('1', { output: 'from Alpha' })
    await alpha.writeSplit('900000000001', { train: ['1'] })
    await alpha.writeSplit('900000000002', { train: ['1'] }, 'Unique')
    // A copy of the project next to it, with the same ids (its other split is removed).
    await cp(alpha.projectDir, join(alpha.root, 'Alpha copy'), { recursive: true })
    await rename(join(alpha.root, 'Alpha copy', 'tasks/222222222222 - Test Task/dataset_splits/900000000002 - Unique'), join(alpha.root, 'Alpha copy', 'removed'))
    const { client } = await startServer({}, { catalog: new KilnProjects(alpha.root) })

    const message = `Dataset split 900000000001 is in 2 places under the mounted folder: "Alpha copy/${SPLIT}", "Alpha/${SPLIT}". ` +
      'Kiln ids are unique, so one is a copy: mount only one of these projects, or remove the copied dataset split folder'
    const expected = { statusCode: 409, error: 'Conflict', code: 'KEX_DATASET_AMBIGUOUS', message }
    const exported = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(exported.json()).toEqual(expected)
    expect(await getJson(client, '/datasets/900000000001')).toEqual({ status: 409, body: expected })
    const validated = await postJson(client, '/datasets/900000000001/validate', PARAMS)
    expect(validated.json()).toEqual(expected)

    const listed = await getJson(client, '/datasets')
    expect(listed.status).toBe(200)
    const { datasets, problems } = listed.body as { datasets: Array<{ id: string, ambiguous?: boolean }>, problems: unknown[] }
    expect(datasets.map((d) => [d.id, d.ambiguous])).toEqual([['900000000001', true], ['900000000001', true], ['900000000002', undefined]])
    expect(problems).toEqual([{ code: 'KEX_DATASET_AMBIGUOUS', files: [`Alpha copy/${SPLIT}`, `Alpha/${SPLIT}`], message }])
    // The unique one is unaffected.
    expect((await postJson(client, '/datasets/900000000002/export', PARAMS)).status).toBe(200)
  })

  it('is found when the copy is in a split folder renamed by hand', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeSplit('900000000001', { train: ['1'] })
    await project.writeSplit('900000000001', { train: ['1'] }, 'Second')
    const splits = join(project.taskDir, 'dataset_splits')
    await rename(join(splits, '900000000001 - Second'), join(splits, 'renamed copy'))
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const exported = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(exported.status).toBe(409)
    expect(exported.json()).toMatchObject({
      code: 'KEX_DATASET_AMBIGUOUS',
      message: expect.stringContaining(`"${SPLIT}", "tasks/222222222222 - Test Task/dataset_splits/renamed copy/dataset_split.kiln"`) as string
    })
  })
})
