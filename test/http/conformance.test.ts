import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeConformance } from '../helpers/conformance-cases.js'
import { loadFixtures, requestBody } from '../helpers/conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/* Every case Kiln generated, replayed through a real server on a real port over the inline body. */

const fixtures = loadFixtures()
let server: TestServer & { close: () => Promise<void> }
beforeAll(async () => { server = await listen() })
afterAll(async () => { await server.close() })

it('finds both conformance fixtures with all their cases', () => {
  expect(fixtures.map((f) => [f.name, f.cases.length])).toEqual([
    ['f1_support_replies', 171],
    ['f2_recipe_extraction', 194]
  ])
})

for (const fixture of fixtures) {
  describeConformance(fixture, (f, testCase) =>
    postJson(server.client, `/datasets/${testCase.dataset_split_id}/export`, requestBody(f, testCase)))
}
