import { afterAll, beforeAll } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { describeHeadConformance, headMountedBody, loadHeadFixtures, mountHeadProject } from '../helpers/head-conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/*
 * Kiln HEAD's goldens again, read from copies of the fixtures' Kiln project folders (with the
 * per_run split stored where Kiln stores it). Nothing is kept from the check pass (bufferBytes 0),
 * so every line is checked by the line checker and formatted again while streaming.
 */

const fixtures = loadHeadFixtures()
const servers = new Map<string, TestServer & { close: () => Promise<void> }>()
const cleanups: Array<() => void> = []
beforeAll(async () => {
  for (const fixture of fixtures) {
    const mounted = mountHeadProject(fixture)
    cleanups.push(mounted.cleanup)
    servers.set(fixture.name, await listen({}, { catalog: new KilnProjects(mounted.root), exportTuning: { bufferBytes: 0, chunkBytes: 1 } }))
  }
})
afterAll(async () => {
  for (const server of servers.values()) await server.close()
  for (const cleanup of cleanups) cleanup()
})

for (const fixture of fixtures) {
  describeHeadConformance(fixture, async (c) => {
    const server = servers.get(fixture.name)
    if (server === undefined) throw new Error('server not started')
    return await postJson(server.client, `/datasets/${c.dataset_split_id}/export`, headMountedBody(c))
  })
}
