import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeHeadConformance, headInlineBody, loadHeadFixtures } from '../helpers/head-conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/* Kiln HEAD's goldens (all three strategies Kiln runs today), replayed over the inline body through a real server. */

const fixtures = loadHeadFixtures()
let server: TestServer & { close: () => Promise<void> }
beforeAll(async () => { server = await listen() })
afterAll(async () => { await server.close() })

it('finds both HEAD fixtures with all their cases', () => {
  expect(fixtures.map((f) => [f.name, f.cases.length])).toEqual([['f1_support_replies', 525], ['f2_recipe_extraction', 524]])
})

for (const fixture of fixtures) {
  describeHeadConformance(fixture, async (c) => await postJson(server.client, `/datasets/${c.dataset_split_id}/export`, headInlineBody(fixture, c)))
}
