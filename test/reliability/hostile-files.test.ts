import { execFileSync, spawn } from 'node:child_process'
import { mkdir, rm, truncate } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { makeKilnProject, type TempProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Files in a mounted project that someone with write access made hostile: named pipes and huge
 * (sparse) files. Each is refused by name, on its own; the rest of the projects stays listed and
 * exportable, and the service stays responsive.
 */

const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }
const TASK = 'tasks/222222222222 - Test Task'

interface Listing {
  datasets: Array<{ id: string, project: { name: string } }>
  problems: Array<{ code: string, files: string[], message: string }>
}

async function getJson (client: Client, path: string): Promise<{ status: number, body: unknown }> {
  const response = await client.request({ method: 'GET', path })
  return { status: response.statusCode, body: await response.body.json() }
}

async function expectHealthy (client: Client): Promise<void> {
  expect(await getJson(client, '/health')).toEqual({ status: 200, body: { status: 'ok' } })
}

/** Replace a file with a named pipe. */
async function makePipe (path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await rm(path, { force: true })
  execFileSync('mkfifo', [path])
  keepFromHanging(path)
}

/**
 * Opening a named pipe without O_NONBLOCK waits for a writer, forever, on the thread that opens
 * it: the thread this test runs on, where not even the test timeout can fire. This child opens and
 * closes the pipe's other end every 100 ms, so that such a regression fails (the server then reads
 * an empty file) instead of hanging the test run.
 */
function keepFromHanging (path: string): void {
  const script = 'const fs = require("node:fs"); const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK; ' +
    `setInterval(() => { try { fs.closeSync(fs.openSync(${JSON.stringify(path)}, flags)) } catch {} }, 100)`
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' })
  onTestFinished(() => { child.kill() })
}

/** Alpha (one good split) and Beta, nested in one mounted folder. */
async function twoProjects (): Promise<{ alpha: TempProject, beta: TempProject }> {
  const alpha = await makeKilnProject({ nested: true, name: 'Alpha' })
  await alpha.writeRun('1')
  await alpha.writeSplit('900000000001', { train: ['1'] })
  const beta = await makeKilnProject({ root: alpha.root, name: 'Beta' })
  await beta.writeRun('5')
  await beta.writeSplit('900000000005', { train: ['5'] })
  return { alpha, beta }
}

describe('named pipes in a mounted project', () => {
  it('are refused by name as dataset_split.kiln, task.kiln and project.kiln; the rest is listed and exported', async () => {
    const { alpha, beta } = await twoProjects()
    const gamma = await makeKilnProject({ root: alpha.root, name: 'Gamma' })
    await gamma.writeSplit('900000000007', { train: [] })
    await makePipe(join(alpha.taskDir, 'dataset_splits', '900000000002 - Piped', 'dataset_split.kiln'))
    await makePipe(join(beta.taskDir, 'task.kiln'))
    await makePipe(join(gamma.projectDir, 'project.kiln'))
    const { client } = await startServer({}, { catalog: new KilnProjects(alpha.root) })

    const listed = await getJson(client, '/datasets')
    expect(listed.status).toBe(200)
    const { datasets, problems } = listed.body as Listing
    expect(datasets.map((d) => d.id)).toEqual(['900000000001'])
    const pipe = /is a named pipe \(FIFO\), not a regular file: Kiln files must be regular files/
    expect(problems).toEqual([
      { code: 'KEX_KILN_FILE_NOT_REGULAR', files: [`Alpha/${TASK}/dataset_splits/900000000002 - Piped/dataset_split.kiln`], message: expect.stringMatching(pipe) as string },
      { code: 'KEX_KILN_FILE_NOT_REGULAR', files: [`Beta/${TASK}/task.kiln`], message: expect.stringMatching(pipe) as string },
      { code: 'KEX_KILN_FILE_NOT_REGULAR', files: ['Gamma/project.kiln'], message: expect.stringMatching(pipe) as string }
    ])
    await expectHealthy(client)

    // The dataset whose file is the pipe, and datasets of the projects whose task or project file is.
    for (const [id, file] of [['900000000002', `Alpha/${TASK}/dataset_splits/900000000002 - Piped/dataset_split.kiln`], ['900000000005', `Beta/${TASK}/task.kiln`], ['900000000007', 'Gamma/project.kiln']]) {
      const exported = await postJson(client, `/datasets/${id}/export`, PARAMS)
      expect(exported.json()).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'KEX_KILN_FILE_NOT_REGULAR',
        message: `"${file}" is a named pipe (FIFO), not a regular file: Kiln files must be regular files; replace it with the file Kiln wrote, or remove it`
      })
      expect(await getJson(client, `/datasets/${id}`)).toMatchObject({ status: 422, body: { code: 'KEX_KILN_FILE_NOT_REGULAR' } })
    }
    expect(exported200(await postJson(client, '/datasets/900000000001/export', PARAMS))).toBe(1)
    await expectHealthy(client)
  })

  it('are refused as task_run.kiln, naming the run, and the run-file reader stays free for the next export', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await makePipe(project.runFile('2'))
    await project.writeSplit('900000000001', { train: ['1', '2'] })
    await project.writeSplit('900000000002', { train: ['1'] }, 'Only one')
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })

    const refused = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(refused.status).toBe(422)
    expect(refused.json()).toMatchObject({
      code: 'KEX_TASK_RUN_INVALID',
      run_ids: ['2'],
      message: 'Task run 2: task_run.kiln is a named pipe (FIFO), not a regular file: Kiln files must be regular files; replace it with the file Kiln wrote, or remove it'
    })
    expect(exported200(await postJson(client, '/datasets/900000000002/export', PARAMS))).toBe(1)
    await expectHealthy(client)
  })
})

/** The line count of a 200 export. */
function exported200 (response: { status: number, text: string }): number {
  expect(response.status, response.text).toBe(200)
  return response.text.split('\n').length - 1
}

const MiB = 1024 * 1024

describe('files over the size limits', () => {
  it('a task.kiln over 512 MiB (sparse) is refused by name with the limit; the other projects are listed', async () => {
    const { alpha, beta } = await twoProjects()
    await truncate(join(beta.taskDir, 'task.kiln'), 600 * MiB)
    const { client } = await startServer({}, { catalog: new KilnProjects(alpha.root) })
    const listed = await getJson(client, '/datasets')
    expect(listed.status).toBe(200)
    const { datasets, problems } = listed.body as Listing
    expect(datasets.map((d) => d.project.name)).toEqual(['Alpha'])
    const message = `"Beta/${TASK}/task.kiln" is 600 MiB (629145600 bytes), over the limit of 256 MiB for Kiln files: raise MAX_KILN_FILE_BYTES if the file is genuine`
    expect(problems).toEqual([{ code: 'KEX_KILN_FILE_TOO_LARGE', files: [`Beta/${TASK}/task.kiln`], message }])
    expect(await getJson(client, '/datasets/900000000005')).toEqual({ status: 422, body: { statusCode: 422, error: 'Unprocessable Entity', code: 'KEX_KILN_FILE_TOO_LARGE', message } })
  })

  it('an oversized run file refuses that run; an oversized split file refuses that export', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeRun('2')
    await truncate(project.runFile('2'), 20 * MiB)
    await project.writeSplit('900000000001', { train: ['1', '2'] })
    await project.writeSplit('900000000002', { train: Array.from({ length: 2000 }, () => '1') }, 'Big')
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root, { maxFileBytes: 8192 }) })

    const run = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(run.status).toBe(422)
    expect(run.json()).toMatchObject({
      code: 'KEX_TASK_RUN_INVALID',
      run_ids: ['2'],
      message: 'Task run 2: task_run.kiln is 20 MiB (20971520 bytes), over the limit of 16 MiB for run files: raise MAX_RUN_FILE_BYTES if the file is genuine'
    })
    const split = await postJson(client, '/datasets/900000000002/export', PARAMS)
    expect(split.json()).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      code: 'KEX_KILN_FILE_TOO_LARGE',
      message: expect.stringMatching(/^"tasks\/222222222222 - Test Task\/dataset_splits\/900000000002 - Big\/dataset_split.kiln" is 2\d(\.\d)? KiB \(\d+ bytes\), over the limit of 8 KiB for Kiln files: raise MAX_KILN_FILE_BYTES/) as string
    })
  })
})
