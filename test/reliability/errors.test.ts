import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'
import { type DatasetCatalog } from '../../src/source/types.js'
import { postJson, startServer } from '../helpers/server.js'

describe('the error catalogue', () => {
  it('uses one prefix for every code, and no code twice', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(15)
    for (const code of ERROR_CODES) expect(code).toMatch(/^KEX_[A-Z0-9_]+$/)
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length)
  })

  it('is documented: the README error table names every code', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const table = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## CLI'))
    expect(ERROR_CODES.filter((code) => !table.includes(`| \`${code}\` |`))).toEqual([])
  })

  it('hides the message, stack and paths of unexpected errors behind a bare 500', async () => {
    const broken: DatasetCatalog = {
      list: async () => { throw new Error('EACCES: permission denied, open /srv/secret/project.kiln') },
      describe: async () => undefined,
      find: async () => { throw new TypeError('Cannot read properties of undefined (reading \'split\') at /app/src/x.ts:1:1') }
    }
    const { client } = await startServer({}, { catalog: broken })
    const exported = await postJson(client, '/datasets/1/export', { split_name: 'train', format: 'openai_chat_jsonl', system_message: '' })
    expect(exported.status).toBe(500)
    expect(exported.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', code: 'KEX_INTERNAL', message: 'Internal server error' })
    const listed = await client.request({ method: 'GET', path: '/datasets' })
    expect(listed.statusCode).toBe(500)
    const text = await listed.body.text()
    expect(text).not.toMatch(/secret|EACCES|at \/|stack/)
    // The service keeps running.
    const health = await client.request({ method: 'GET', path: '/health' })
    expect(health.statusCode).toBe(200)
    await health.body.dump()
  })
})
