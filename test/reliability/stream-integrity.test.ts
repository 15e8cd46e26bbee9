import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { hookedCatalog } from '../helpers/faulty-catalog.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { startServer } from '../helpers/server.js'

const run = promisify(execFile)
const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }

async function hasCommand (command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(() => true, () => false)
}

describe('trailers', () => {
  it('end every export with the line count and SHA-256 of the bytes sent', async () => {
    const { client } = await startServer()
    const runs = Array.from({ length: 500 }, (_, i) => kilnRun(String(i), { output: `réponse ${i} 🎉` }))
    const response = await client.request({
      method: 'POST',
      path: '/datasets/100000000001/export',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inlineBody(runs))
    })
    expect(response.statusCode).toBe(200)
    expect(String(response.headers.trailer).toLowerCase()).toBe('x-export-lines, x-export-sha256')
    const body = Buffer.from(await response.body.arrayBuffer())
    expect(response.trailers['x-export-lines']).toBe('500')
    expect(response.trailers['x-export-sha256']).toBe(createHash('sha256').update(body).digest('hex'))
  })

  it('are sent for an empty export too', async () => {
    const { client } = await startServer()
    const response = await client.request({
      method: 'POST',
      path: '/datasets/100000000001/export',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inlineBody([]))
    })
    expect(await response.body.text()).toBe('')
    expect(response.trailers['x-export-lines']).toBe('0')
    expect(response.trailers['x-export-sha256']).toBe(createHash('sha256').digest('hex'))
  })
})

describe('a failure after the first byte', () => {
  /** A mounted project whose run 3 vanishes between the check and the streaming pass. */
  async function vanishingExport () {
    const project = await makeKilnProject()
    await project.writeSplit('900000000001', { train: ['1', '2', '3'] })
    const catalog = hookedCatalog(new KilnProjects(project.root), async (pass) => {
      if (pass === 2) await unlink(project.runFile('3'))
    })
    const server = await startServer({}, { catalog, exportTuning: { bufferBytes: 1, chunkBytes: 1 } })
    const reset = async (): Promise<void> => { for (const id of ['1', '2', '3']) await project.writeRun(id) }
    return { ...server, reset, url: `${server.origin}/datasets/900000000001/export` }
  }

  it('is an error for undici, after a 200 and some lines', async () => {
    const { client, reset } = await vanishingExport()
    await reset()
    const response = await client.request({
      method: 'POST',
      path: '/datasets/900000000001/export',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(PARAMS)
    })
    expect(response.statusCode).toBe(200)
    let received = ''
    await expect((async () => { for await (const chunk of response.body) received += String(chunk) })()).rejects.toThrow()
    expect(received.length).toBeGreaterThan(0)
    expect(received.split('\n').length).toBeLessThan(4)
  })

  it('is an error for curl', async (context) => {
    if (!await hasCommand('curl')) context.skip('curl is not installed')
    const { url, reset } = await vanishingExport()
    await reset()
    const result = await run('curl', ['-sS', '-o', '/dev/null', '-H', 'content-type: application/json', '-d', JSON.stringify(PARAMS), url])
      .then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => err)
    expect(result.code).toBe(18) // CURLE_PARTIAL_FILE
    expect(result.stderr).toMatch(/transfer closed|outstanding read data/)
  })

  it('is an error for Python\'s http.client', async (context) => {
    if (!await hasCommand('python3')) context.skip('python3 is not installed')
    const { url, reset } = await vanishingExport()
    await reset()
    const script = [
      'import http.client, json, sys, urllib.parse',
      'u = urllib.parse.urlsplit(sys.argv[1])',
      'c = http.client.HTTPConnection(u.hostname, u.port)',
      "c.request('POST', u.path, body=sys.argv[2], headers={'content-type': 'application/json'})",
      'r = c.getresponse()',
      'print(r.status)',
      'r.read()'
    ].join('\n')
    const result = await run('python3', ['-c', script, url, JSON.stringify(PARAMS)])
      .then(() => ({ code: 0, stdout: '', stderr: '' }), (err: { code: number, stdout: string, stderr: string }) => err)
    expect(result.stdout.trim()).toBe('200')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/IncompleteRead/)
  })
})
