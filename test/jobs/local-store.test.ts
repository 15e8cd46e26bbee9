import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { LocalResultStore } from '../../src/jobs/store/local-store.js'
import { openResultStore } from '../../src/jobs/store/open-store.js'
import { type ResultManifest } from '../../src/jobs/store/types.js'
import { tempExportsDir } from '../helpers/jobs.js'

const manifest = (jobId: string, createdAt: string): ResultManifest => ({
  job_id: jobId,
  file_name: 'x.jsonl',
  sha256: '0'.repeat(64),
  bytes: 12,
  lines: 2,
  format: 'openai_chat_jsonl',
  data_strategy: 'final_only',
  dataset_id: '1',
  source_digest: 'd',
  service_version: '0.1.0',
  created_at: createdAt
})

describe('the local result store', () => {
  it('makes a result visible only once committed, reads ranges, and drops an aborted one', async () => {
    const dir = await tempExportsDir()
    const store = new LocalResultStore(join(dir, 'results'))
    const writer = await store.create('ex_a')
    await writer.write(Buffer.from('{"a": 1}\n'))
    await writer.write(Buffer.from('{}\n'))
    expect(await store.get('ex_a')).toBeUndefined()
    await writer.commit(manifest('ex_a', new Date().toISOString()))
    const stored = await store.get('ex_a')
    expect(stored?.manifest.job_id).toBe('ex_a')
    expect(stored?.location).toBe(`file://${join(dir, 'results', 'ex_a.jsonl')}`)
    expect(await text(await store.read('ex_a') as NodeJS.ReadableStream & AsyncIterable<Buffer>)).toBe('{"a": 1}\n{}\n')
    expect(await text(await store.read('ex_a', { start: 2, end: 4 }) as NodeJS.ReadableStream & AsyncIterable<Buffer>)).toBe('a":')

    const aborted = await store.create('ex_b')
    await aborted.write(Buffer.from('x\n'))
    await aborted.abort()
    expect(await store.get('ex_b')).toBeUndefined()
    expect((await readdir(join(dir, 'results'))).sort()).toEqual(['ex_a.jsonl', 'ex_a.manifest.json'])
    await expect(store.create('../escape')).rejects.toThrow('Not a job id')
  })

  it('sweeps results older than the TTL, and stale temp files, and keeps the rest', async () => {
    const dir = await tempExportsDir()
    const store = new LocalResultStore(dir)
    const now = Date.now()
    for (const [id, age] of [['ex_old', 10_000], ['ex_new', 10]] as const) {
      const writer = await store.create(id)
      await writer.write(Buffer.from('{}\n'))
      await writer.commit(manifest(id, new Date(now - age).toISOString()))
    }
    await mkdir(dir, { recursive: true })
    const temp = join(dir, '.ex_dead.123.abcd.jsonl.tmp')
    await writeFile(temp, 'half')
    await utimes(temp, new Date(now - 20_000), new Date(now - 20_000))
    expect(await store.sweep(1000, now)).toBe(1)
    expect((await readdir(dir)).sort()).toEqual(['ex_new.jsonl', 'ex_new.manifest.json'])
  })

  it('is chosen by the config: EXPORTS_DIR, and a clear start-up error for EXPORTS_S3_URL in this build', async () => {
    const config = loadConfig({ EXPORTS_DIR: '/tmp/some-results', EXPORTS_TTL: '90m' })
    expect(config.exportsTtlMs).toBe(90 * 60_000)
    expect((await openResultStore(config)).kind).toBe('local')
    expect(loadConfig({}).exportsTtlMs).toBe(24 * 3_600_000)
    expect(() => loadConfig({ EXPORTS_TTL: '1 day' })).toThrow(ConfigError)
    expect(() => loadConfig({ EXPORTS_DIR: '../results' })).toThrow(ConfigError)
    expect((await openResultStore(loadConfig({ EXPORTS_S3_URL: 's3://bucket/prefix', EXPORTS_S3_ENDPOINT: 'http://127.0.0.1:9' }))).kind).toBe('s3')
    expect(() => loadConfig({ EXPORTS_S3_ENDPOINT: 'ftp://x' })).toThrow(ConfigError)
  })
})
