import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { hookedCatalog } from '../helpers/faulty-catalog.js'
import { kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * "Links are never followed", also when someone who can write to the mounted folder swaps a run
 * folder for a link while an export runs: what is read is checked on the open file, so there is
 * no window between a check and the read.
 */

const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }

describe('a run folder swapped for a symbolic link', () => {
  /** A copy of run 2, with a secret output, in a folder outside the project. */
  async function outsideRun (): Promise<string> {
    const outside = await mkdtemp(join(tmpdir(), 'kiln-export-outside-'))
    onTestFinished(async () => { await rm(outside, { recursive: true, force: true }) })
    await mkdir(join(outside, '2'))
    await writeFile(join(outside, '2', 'task_run.kiln'), JSON.stringify(kilnRun('2', { output: 'SECRET' })))
    return join(outside, '2')
  }

  it('between the check pass and the streaming pass is never followed: the export fails visibly', async () => {
    const project = await makeKilnProject()
    for (const id of ['1', '2', '3']) await project.writeRun(id)
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    const linked = await outsideRun()
    const runFolder = dirname(project.runFile('2'))
    const catalog = hookedCatalog(new KilnProjects(project.root), async (pass) => {
      if (pass !== 2) return
      await rename(runFolder, `${runFolder}.moved`)
      await symlink(linked, runFolder)
    })
    // Nothing kept from the check pass: the streaming pass reads every run again.
    const { client } = await startServer({}, { catalog, exportTuning: { bufferBytes: 0, chunkBytes: 1 } })
    const response = await client.request({ method: 'POST', path: '/datasets/900000000001/export', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PARAMS) })
    let received = ''
    if (response.statusCode === 200) {
      await expect((async () => { for await (const chunk of response.body) received += String(chunk) })()).rejects.toThrow()
    } else {
      received = await response.body.text()
      expect(JSON.parse(received)).toMatchObject({ statusCode: 422, code: 'KEX_TASK_RUN_INVALID' })
    }
    expect(received).not.toContain('SECRET')
  })

  it('before the export is refused, naming the run, with no content from behind the link', async () => {
    const project = await makeKilnProject()
    for (const id of ['1', '2']) await project.writeRun(id)
    await project.writeSplit('900000000001', { train: ['1', '2'] })
    const runFolder = dirname(project.runFile('2'))
    await unlink(project.runFile('2'))
    await rm(runFolder, { recursive: true })
    await symlink(await outsideRun(), runFolder)
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const response = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(response.status).toBe(422)
    expect(response.json()).toMatchObject({ code: 'KEX_TASK_RUN_INVALID', run_ids: ['2'], message: 'Task run 2: task_run.kiln is a symbolic link or is reached through one (links are not followed)' })
    expect(response.text).not.toContain('SECRET')
  })
})

describe('a folder higher up swapped for a symbolic link', () => {
  it('(the task\'s runs/ folder) is never followed either', async () => {
    const project = await makeKilnProject()
    await project.writeSplit('900000000001', { train: ['1'] })
    const outside = await mkdtemp(join(tmpdir(), 'kiln-export-outside-'))
    onTestFinished(async () => { await rm(outside, { recursive: true, force: true }) })
    await mkdir(join(outside, '1'))
    await writeFile(join(outside, '1', 'task_run.kiln'), JSON.stringify(kilnRun('1', { output: 'SECRET' })))
    await symlink(outside, join(project.taskDir, 'runs'))
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const response = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(response.status).toBe(422)
    expect(response.json()).toMatchObject({ code: 'KEX_TASK_RUN_INVALID', run_ids: ['1'] })
    expect(response.text).not.toContain('SECRET')
  })
})
