import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExportIntegrityError, KilnExportApiError, KilnExportClient, type ExportJob } from '../../src/client/index.js'
import { EXAMPLE_PROJECT_DIR, loadConfig } from '../../src/config.js'
import { MOUNTED_EXAMPLE } from '../../src/http/schemas/export-request.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { tempExportsDir } from '../helpers/jobs.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { postJson, startServer } from '../helpers/server.js'

describe('the client\'s export jobs', () => {
  it('creates a job, follows its progress, downloads and resumes its file with the SHA-256 checked', async () => {
    const exportsDir = await tempExportsDir()
    const { client: http, origin } = await startServer({ ...loadConfig({}), exportsDir }, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    const client = new KilnExportClient({ baseUrl: origin })
    const expected = (await postJson(http, '/datasets/150621256807/export', MOUNTED_EXAMPLE)).text

    const created = await client.createExport('150621256807', MOUNTED_EXAMPLE as never)
    expect(await client.createExport('150621256807', MOUNTED_EXAMPLE as never)).toMatchObject({ id: created.id })
    const seen: ExportJob[] = []
    const done = await client.waitForExport(created.id, { intervalMs: 20, onProgress: (job) => seen.push(job) })
    expect(done.state).toBe('done')
    expect(seen.at(-1)?.state).toBe('done')

    const path = join(exportsDir, 'download.jsonl')
    const whole = await client.downloadExport(created.id, path)
    expect(whole).toMatchObject({ bytes: Buffer.byteLength(expected), lines: 6, resumedFrom: 0, sha256: done.result?.sha256 })
    expect(await readFile(path, 'utf8')).toBe(expected)

    // A broken earlier download: the rest is fetched and appended.
    const resumedPath = join(exportsDir, 'resumed.jsonl')
    await writeFile(`${resumedPath}.partial`, Buffer.from(expected).subarray(0, 1000))
    expect(await client.downloadExport(created.id, resumedPath)).toMatchObject({ resumedFrom: 1000 })
    expect(await readFile(resumedPath, 'utf8')).toBe(expected)

    // A partial file that is not a prefix of the result: refused, then downloaded whole.
    const badPath = join(exportsDir, 'bad.jsonl')
    await writeFile(`${badPath}.partial`, 'x'.repeat(1000))
    await expect(client.downloadExport(created.id, badPath)).rejects.toBeInstanceOf(ExportIntegrityError)
    expect(await client.downloadExport(created.id, badPath)).toMatchObject({ resumedFrom: 0 })
    expect(await readFile(badPath, 'utf8')).toBe(expected)

    expect(await client.deleteExport(created.id)).toBeUndefined()
    await expect(client.getExport(created.id)).rejects.toMatchObject({ status: 404, code: 'KEX_EXPORT_JOB_NOT_FOUND' })
  })

  it('throws the export route\'s error for a job that failed on its data', async () => {
    const exportsDir = await tempExportsDir()
    const { origin } = await startServer({ ...loadConfig({}), exportsDir })
    const client = new KilnExportClient({ baseUrl: origin })
    const { dataset_split: split, task_runs: runs } = inlineBody([kilnRun('1', { output: 'not json' })])
    const job = await client.createExport('100000000001', {
      split_name: 'train', format: 'openai_chat_json_schema_jsonl', system_message: '', dataset_split: split, task_runs: runs
    } as never)
    const failure = await client.waitForExport(job.id, { intervalMs: 20 }).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(KilnExportApiError)
    expect(failure).toMatchObject({ status: 422, code: 'KEX_OUTPUT_NOT_JSON', runIds: ['1'] })
  })
})
