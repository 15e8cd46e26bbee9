import { describe, expect, it } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { closestValue } from '../../src/http/schema-validator.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * The mistakes of a newcomer's first hour, each answered with the fix, in the documented error
 * shape ({statusCode, code, error, message}), over a real port.
 */

const EXPORT = '/datasets/150621256807/export'
const BODY = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'Be brief.' }
const exampleServer = async (): ReturnType<typeof startServer> => startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })

async function request (client: Awaited<ReturnType<typeof startServer>>['client'], method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await client.request({ method: method as 'GET', path, headers, body })
  const text = await response.body.text()
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(text) as Record<string, unknown> }
}

describe('errors that say how to fix them', () => {
  it('an unknown dataset id points to GET /datasets and shows mounted ids', async () => {
    const { client } = await exampleServer()
    const answer = await postJson(client, '/datasets/999/export', BODY)
    expect(answer.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'KEX_DATASET_NOT_FOUND',
      message: 'Dataset split 999 not found in the mounted Kiln projects: GET /datasets lists the 1 mounted (150621256807 "Jokes v1")'
    })
    const get = await request(client, 'GET', '/datasets/999')
    expect(get.json).toMatchObject({ statusCode: 404, code: 'KEX_DATASET_NOT_FOUND', message: expect.stringContaining('GET /datasets lists') })
  })

  it('an unknown dataset id says when nothing is mounted, and how to export inline', async () => {
    const { client } = await startServer()
    const answer = await postJson(client, '/datasets/999/export', BODY)
    expect(answer.json()).toMatchObject({
      statusCode: 404,
      code: 'KEX_DATASET_NOT_FOUND',
      message: 'Dataset split 999 not found: no Kiln projects are mounted (KILN_PROJECTS_DIR); send dataset_split and task_runs in the body to export inline'
    })
  })

  it('an unknown format lists the formats and suggests the closest name', async () => {
    const { client } = await exampleServer()
    const answer = await postJson(client, EXPORT, { ...BODY, format: 'openai_chat_jsnl' })
    expect(answer.status).toBe(400)
    const { message } = answer.json() as { message: string }
    expect(message).toMatch(/^body\/format must be one of: openai_chat_jsonl, /)
    expect(message).toMatch(/; did you mean openai_chat_jsonl\?$/)
    const strategy = await postJson(client, EXPORT, { ...BODY, data_strategy: 'two_message' })
    expect((strategy.json() as { message: string }).message).toMatch(/did you mean two_message_cot\?$/)
  })

  it('suggests only close names', () => {
    const formats = ['openai_chat_jsonl', 'vertex_gemini', 'huggingface_chat_template_jsonl']
    expect(closestValue('OpenAI_Chat_JSONL', formats)).toBe('openai_chat_jsonl')
    expect(closestValue('vertex', formats)).toBe('vertex_gemini')
    expect(closestValue('csv', formats)).toBeUndefined()
    expect(closestValue(42, formats)).toBeUndefined()
  })

  it('a body without a Content-Type gets a 415 that shows the header to send, once', async () => {
    const { client } = await exampleServer()
    const answer = await request(client, 'POST', EXPORT, {}, JSON.stringify(BODY))
    expect(answer.status).toBe(415)
    expect(answer.json).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      code: 'KEX_UNSUPPORTED_MEDIA_TYPE',
      message: 'The request has no Content-Type header: send the header Content-Type: application/json'
    })
    const csv = await request(client, 'POST', EXPORT, { 'content-type': 'text/csv' }, 'a,b')
    expect(csv.json.message).toBe('Content-Type "text/csv" is not supported: send the header Content-Type: application/json')
  })

  it('GET on the export route is a 405 with Allow: POST', async () => {
    const { client } = await exampleServer()
    const answer = await request(client, 'GET', EXPORT)
    expect(answer.status).toBe(405)
    expect(answer.headers.allow).toBe('POST')
    expect(answer.json).toEqual({
      statusCode: 405,
      error: 'Method Not Allowed',
      code: 'KEX_METHOD_NOT_ALLOWED',
      message: `GET ${EXPORT} is not allowed: this route answers POST`
    })
    // Every route that exists with another method, and an unknown path stays a 404.
    const health = await request(client, 'DELETE', '/health')
    expect([health.status, health.headers.allow, health.json.code]).toEqual([405, 'GET, HEAD', 'KEX_METHOD_NOT_ALLOWED'])
    const validate = await request(client, 'GET', '/datasets/150621256807/validate')
    expect([validate.status, validate.headers.allow]).toEqual([405, 'POST'])
    const unknown = await request(client, 'GET', '/nowhere')
    expect([unknown.status, unknown.json.code]).toEqual([404, 'KEX_ROUTE_NOT_FOUND'])
  })

  it('a trailing slash reaches the same route', async () => {
    const { client } = await exampleServer()
    const list = await request(client, 'GET', '/datasets/')
    expect(list.status).toBe(200)
    expect(list.json.datasets).toHaveLength(1)
    const one = await request(client, 'GET', '/datasets/150621256807/')
    expect([one.status, one.json.id]).toEqual([200, '150621256807'])
    const exported = await postJson(client, `${EXPORT}/`, BODY)
    expect(exported.status).toBe(200)
    expect(exported.text.split('\n')).toHaveLength(7)
  })
})
