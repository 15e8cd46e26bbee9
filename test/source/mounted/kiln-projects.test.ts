import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../../src/config.js'
import { KilnProjects } from '../../../src/source/mounted/kiln-projects.js'
import { makeKilnProject } from '../../helpers/kiln-project.js'
import { postJson, startServer } from '../../helpers/server.js'

const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }

async function getJson (client: Awaited<ReturnType<typeof startServer>>['client'], path: string): Promise<{ status: number, body: unknown }> {
  const response = await client.request({ method: 'GET', path })
  return { status: response.statusCode, body: await response.body.json() }
}

describe('the example project (the default KILN_PROJECTS_DIR)', () => {
  it('is listed by GET /datasets and described by GET /datasets/:id', async () => {
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const list = await getJson(client, '/datasets')
    expect(list.status).toBe(200)
    const expected = {
      id: '150621256807',
      name: 'Jokes v1',
      description: 'All rated jokes, 80/20.',
      project: { id: '240266928837', name: 'Joke Lab' },
      task: { id: '249026891730', name: 'Joke Generator', structured_output: true },
      splits: [{ name: 'train', run_count: 6 }, { name: 'test', run_count: 2 }]
    }
    expect(list.body).toEqual({ datasets: [expected], problems: [] })
    expect(await getJson(client, '/datasets/150621256807')).toEqual({ status: 200, body: expected })
    const missing = await getJson(client, '/datasets/123456789012')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ code: 'KEX_DATASET_NOT_FOUND' })
  })

  it('exports the README example', async () => {
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const response = await postJson(client, '/datasets/150621256807/export', {
      split_name: 'train',
      format: 'openai_chat_json_schema_jsonl',
      data_strategy: 'final_and_intermediate',
      system_message: 'Write a one-line joke about the topic.',
      thinking_instructions: 'Brainstorm three angles first.'
    })
    expect(response.status).toBe(200)
    const lines = response.text.split('\n')
    expect(lines).toHaveLength(7)
    expect(lines[1]).toBe(
      '{"messages": [{"role": "system", "content": "Write a one-line joke about the topic."}, {"role": "user", "content": "cats"}, ' +
      '{"role": "user", "content": "Brainstorm three angles first."}, {"role": "assistant", "content": "Angles: laptops, boxes, mice. Laptop + mouse pun is best."}, ' +
      '{"role": "user", "content": "Considering the above, return a final result."}, ' +
      '{"role": "assistant", "content": "{\\"setup\\": \\"Why do cats love laptops?\\", \\"punchline\\": \\"Mouse surveillance.\\"}"}]}')
  })
})

describe('a project that changes while the service runs', () => {
  it('sees a new split, a new run and a deleted run on the next request', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeSplit('900000000001', { train: ['1'] })
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })

    expect((await postJson(client, '/datasets/900000000001/export', PARAMS)).text.split('\n')).toHaveLength(2)
    expect((await postJson(client, '/datasets/900000000002/export', PARAMS)).status).toBe(404)

    await project.writeRun('2')
    await project.writeSplit('900000000002', { train: ['1', '2'] }, 'Second')
    const second = await postJson(client, '/datasets/900000000002/export', PARAMS)
    expect(second.status).toBe(200)
    expect(second.text.split('\n')).toHaveLength(3)
    expect(((await getJson(client, '/datasets')).body as { datasets: unknown[] }).datasets).toHaveLength(2)

    await unlink(project.runFile('2'))
    const gone = await postJson(client, '/datasets/900000000002/export', PARAMS)
    expect(gone.status).toBe(422)
    expect(gone.json()).toMatchObject({ code: 'KEX_TASK_RUN_NOT_FOUND', run_ids: ['2'] })
  })

  it('lists projects one level down when the mounted folder holds several', async () => {
    const a = await makeKilnProject({ nested: true, name: 'Alpha' })
    await a.writeSplit('900000000010', { train: [] })
    const b = join(a.root, 'Beta')
    await mkdir(join(b, 'tasks'), { recursive: true })
    await writeFile(join(b, 'project.kiln'), JSON.stringify({ id: '333333333333', name: 'Beta' }))
    const { client } = await startServer({}, { catalog: new KilnProjects(a.root) })
    const list = (await getJson(client, '/datasets')).body as { datasets: Array<{ project: { name: string } }> }
    expect(list.datasets.map((d) => d.project.name)).toEqual(['Alpha'])
    expect(await new KilnProjects(a.root).projectDirs()).toHaveLength(2)
  })
})

describe('bad files in a mounted project', () => {
  it('answers 422 naming the run when a run file is corrupt or not a task run', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    const file = await project.writeRun('2')
    await writeFile(file, '{"id": "2", "input": ')
    await project.writeRun('3', { input: 'x' })
    await writeFile(project.runFile('3'), JSON.stringify({ id: '3', input: 7, output: { output: 'y' } }))
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const response = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(response.status).toBe(422)
    const body = response.json() as { code: string, message: string, run_ids: string[], problems: Array<{ message: string }> }
    expect(body.code).toBe('KEX_TASK_RUN_INVALID')
    expect(body.run_ids).toEqual(['2', '3'])
    expect(body.message).toMatch(/^Task run 2: task_run.kiln is not valid JSON/)
    expect(body.problems[1]?.message).toBe('Task run 3: task_run.kiln is not a valid Kiln task run (/input must be string)')
    expect(response.text).not.toContain(project.root)
  })
})

describe('path safety', () => {
  it('never answers hostile dataset ids with data', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeSplit('900000000001', { train: ['1'] })
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    const hostile = ['..', '%2e%2e', '.', '%2Fetc%2Fpasswd', '..%2F..%2F..%2Fetc%2Fpasswd', '900000000001%00', '%00',
      '900000000001%2F..', encodeURIComponent(project.root), '9'.repeat(129), encodeURIComponent('900000000001 - Test split')]
    for (const id of hostile) {
      const exported = await postJson(client, `/datasets/${id}/export`, PARAMS)
      expect([400, 404], `export ${id}`).toContain(exported.status)
      expect(exported.headers['content-type']).toMatch(/^application\/json/)
      const described = await client.request({ method: 'GET', path: `/datasets/${id}` })
      expect([400, 404], `describe ${id}`).toContain(described.statusCode)
      await described.body.dump()
    }
  })

  it('does not follow symbolic links out of the mounted folder', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'kiln-export-outside-'))
    onTestFinished(async () => { await rm(outside, { recursive: true, force: true }) })
    const secret = await makeKilnProject({ name: 'Secret' })
    await secret.writeRun('7', { output: 'SECRET' })
    await secret.writeSplit('900000000077', { train: ['7'] })

    const project = await makeKilnProject()
    await project.writeRun('1')
    // A run folder that is a link to a run elsewhere, a split folder that is a link, a project link.
    await project.writeSplit('900000000001', { train: ['1', '7', '../../../../etc/passwd', '/etc/passwd'] })
    await symlink(join(secret.taskDir, 'runs', '7'), join(project.taskDir, 'runs', '7'))
    await symlink(join(secret.taskDir, 'dataset_splits', '900000000077 - Test split'), join(project.taskDir, 'dataset_splits', '900000000077 - Linked'))
    await symlink(secret.root, join(outside, 'linked-project'))

    const { client } = await startServer({}, { catalog: new KilnProjects(project.root) })
    expect((await postJson(client, '/datasets/900000000077/export', PARAMS)).status).toBe(404)
    const response = await postJson(client, '/datasets/900000000001/export', PARAMS)
    expect(response.status).toBe(422)
    const body = response.json() as { run_ids: string[], problems: Array<{ run_id: string, code: string, message: string }> }
    expect(body.problems).toEqual([
      { run_id: '7', code: 'KEX_TASK_RUN_INVALID', message: 'Task run 7: task_run.kiln is a symbolic link or is reached through one (links are not followed)' },
      { run_id: '../../../../etc/passwd', code: 'KEX_TASK_RUN_NOT_FOUND', message: expect.any(String) as string },
      { run_id: '/etc/passwd', code: 'KEX_TASK_RUN_NOT_FOUND', message: expect.any(String) as string }
    ])
    expect(response.text).not.toContain('SECRET')

    const nested = new KilnProjects(outside)
    expect(await nested.projectDirs()).toEqual([])
  })
})
