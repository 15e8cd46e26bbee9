import { describe, expect, it } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { ADDED_EXAMPLES, EXPORT_SUCCESS_EXAMPLE, MOUNTED_EXAMPLE, PREFERENCE_EXAMPLE, PREFERENCE_LINE_EXAMPLES } from '../../src/http/schemas/export-request.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { postJson, startServer } from '../helpers/server.js'

interface Media { example?: unknown, examples?: Record<string, { summary?: string, value: unknown }>, schema?: Record<string, unknown> }
interface Operation { requestBody: { content: Record<string, Media> }, responses: Record<string, { content?: Record<string, Media> }> }
interface Document { security?: unknown, paths: Record<string, Record<string, Operation>> }

async function document (config: { apiToken?: string } = {}): Promise<{ doc: Document, client: Awaited<ReturnType<typeof startServer>>['client'] }> {
  const { client } = await startServer(config, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
  const headers: Record<string, string> = config.apiToken === undefined ? {} : { authorization: `Bearer ${config.apiToken}` }
  const response = await client.request({ method: 'GET', path: '/openapi.json', headers })
  return { doc: await response.body.json() as Document, client }
}

describe('the OpenAPI document Swagger UI shows', () => {
  it('names the request examples after what they show', async () => {
    const { doc } = await document()
    const examples = doc.paths['/datasets/{id}/export']?.post?.requestBody.content['application/json']?.examples ?? {}
    expect(Object.keys(examples)).toEqual(['mounted_example_project', 'inline_support_replies', 'inline_bedrock_conversation', 'inline_reasoning_field', 'inline_preference_pairs'])
    expect(examples.mounted_example_project?.value).toEqual(MOUNTED_EXAMPLE)
    for (const example of Object.values(examples)) expect(example.summary).toMatch(/^(Mounted|Inline): /)
  })

  it('shows a real line as the success example, and its own error body for each error status', async () => {
    const { doc, client } = await document()
    const responses = doc.paths['/datasets/{id}/export']?.post?.responses ?? {}
    const lines = responses['200']?.content?.['application/jsonl']?.examples ?? {}
    expect(lines.mounted_example_project?.value).toBe(EXPORT_SUCCESS_EXAMPLE)
    const exported = await postJson(client, '/datasets/150621256807/export', MOUNTED_EXAMPLE)
    expect(exported.text.startsWith(EXPORT_SUCCESS_EXAMPLE)).toBe(true)
    // One example line per format or strategy added after Kiln's, each exactly what its request exports.
    for (const [name, { value, line }] of Object.entries(ADDED_EXAMPLES)) {
      expect(lines[name]?.value, name).toBe(line)
      const added = await postJson(client, '/datasets/150621256807/export', value)
      expect(added.status, added.text).toBe(200)
      expect(added.text, name).toBe(line)
    }
    // One example line per preference format: the first line of the preference request's export.
    for (const [format, line] of Object.entries(PREFERENCE_LINE_EXAMPLES)) {
      expect(lines[format]?.value, format).toBe(line)
      const pairs = await postJson(client, '/datasets/150621256807/export', { ...PREFERENCE_EXAMPLE, format })
      expect(pairs.text.startsWith(line), format).toBe(true)
      expect(pairs.text.split('\n'), format).toHaveLength(3)
    }
    const errors = Object.entries(responses).filter(([status]) => status !== '200')
    expect(errors.length).toBeGreaterThanOrEqual(6)
    const codes = errors.map(([status, response]) => {
      const example = response.content?.['application/json']?.example as { statusCode: number, code: string }
      expect(example.statusCode, status).toBe(Number(status))
      expect(example.code, status).toMatch(/^KEX_[A-Z_]+$/)
      return example.code
    })
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('asks for the bearer token (lock icon) only when API_TOKEN is set', async () => {
    expect((await document()).doc.security).toBeUndefined()
    expect((await document({ apiToken: 'a-token-of-16-chars-or-more' })).doc.security).toEqual([{ bearerAuth: [] }])
  })

  it('keeps the <think> tags visible (code, not HTML) and lists format and data_strategy values in their descriptions', async () => {
    const { doc } = await document()
    const schema = doc.paths['/datasets/{id}/export']?.post?.requestBody.content['application/json']?.schema as { properties: Record<string, { description: string }> }
    const strategy = schema.properties.data_strategy?.description ?? ''
    expect(strategy).toContain('`"<think>\\n{thinking}\\n</think>\\n\\n{answer}"`')
    expect(strategy).toMatch(/^One of: final_only, final_and_intermediate, final_and_intermediate_r1_compatible, two_message_cot, final_and_intermediate_reasoning_field\. /)
    expect(schema.properties.format?.description).toMatch(/^Output format: one of openai_chat_jsonl, /)
  })
})
