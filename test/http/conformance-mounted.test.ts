import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { describeConformance } from '../helpers/conformance-cases.js'
import { exportParams, loadFixtures } from '../helpers/conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/*
 * Every conformance case again, this time read from the fixtures' real Kiln project folders on
 * disk: same bytes and same errors as the inline path. Nothing is kept from the check pass here
 * (bufferBytes 0, one line per chunk), so every run past the first is checked by the line checker
 * and formatted again by the streaming pass: the large-export path, on every case.
 */

const fixtures = loadFixtures()
const servers = new Map<string, TestServer & { close: () => Promise<void> }>()
beforeAll(async () => {
  for (const fixture of fixtures) {
    servers.set(fixture.name, await listen({}, { catalog: new KilnProjects(join(fixture.dir, 'project')), exportTuning: { bufferBytes: 0, chunkBytes: 1 } }))
  }
})
afterAll(async () => {
  for (const server of servers.values()) await server.close()
})

for (const fixture of fixtures) {
  describeConformance(fixture, (f, testCase) => {
    const server = servers.get(f.name)
    if (server === undefined) throw new Error('server not started')
    return postJson(server.client, `/datasets/${testCase.dataset_split_id}/export`, exportParams(testCase))
  })
}
