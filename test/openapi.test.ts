import { readFileSync } from 'node:fs'
import SwaggerParser from '@apidevtools/swagger-parser'
import { describe, expect, it } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../src/config.js'
import { FORMAT_NAMES } from '../src/format/index.js'
import { KilnProjects } from '../src/source/mounted/kiln-projects.js'
import { renderOpenApi } from '../scripts/openapi-document.js'
import { postJson, startServer } from './helpers/server.js'

const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')

describe('the OpenAPI document', () => {
  it('is in sync with the routes (run `npm run openapi` when this fails)', async () => {
    expect(await renderOpenApi()).toBe(committed)
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    const api = await SwaggerParser.validate(JSON.parse(committed) as never)
    expect(api.info.title).toBe('kiln-export')
  })

  it('derives the format enum from the format registry', () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, { post?: { requestBody: { content: { 'application/json': { schema: { properties: { format: { enum: string[] } } } } } } } }>
    }
    const schema = doc.paths['/datasets/{id}/export']?.post?.requestBody.content['application/json'].schema
    expect(schema?.properties.format.enum).toEqual(FORMAT_NAMES)
  })

  it('is served at /openapi.json and Swagger UI at /docs', async () => {
    const { client } = await startServer()
    const json = await client.request({ method: 'GET', path: '/openapi.json' })
    expect(json.statusCode).toBe(200)
    expect(await json.body.text()).toBe(JSON.stringify(JSON.parse(committed)))
    const docs = await client.request({ method: 'GET', path: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(docs.headers['content-type']).toMatch(/text\/html/)
    expect(await docs.body.text()).toContain('swagger-ui')
  })

  it('has request examples that Swagger UI\'s "Try it out" can send as they are', async () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, { post: { parameters: Array<{ in: string, example?: string }>, requestBody: { content: { 'application/json': { examples: Record<string, { value: unknown }> } } } } }>
    }
    const operation = doc.paths['/datasets/{id}/export']?.post
    const id = operation?.parameters.find((parameter) => parameter.in === 'path')?.example
    const examples = Object.values(operation?.requestBody.content['application/json'].examples ?? {})
    expect(examples).toHaveLength(5)
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    for (const example of examples) {
      const response = await postJson(client, `/datasets/${String(id)}/export`, example.value)
      expect(response.status, response.text).toBe(200)
      expect(response.text.length).toBeGreaterThan(0)
    }
  })

  it('has validation examples that Swagger UI\'s "Try it out" can send as they are', async () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, { post: { requestBody: { content: { 'application/json': { examples: Record<string, { value: unknown }> } } } } }>
    }
    const examples = Object.values(doc.paths['/datasets/{id}/validate']?.post.requestBody.content['application/json'].examples ?? {})
    expect(examples).toHaveLength(2)
    const { client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    for (const example of examples) {
      const response = await postJson(client, '/datasets/150621256807/validate', example.value)
      expect(response.status, response.text).toBe(200)
      expect((response.json() as { splits: unknown[] }).splits.length).toBeGreaterThan(0)
    }
  })
})
