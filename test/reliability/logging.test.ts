import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { type DatasetCatalog } from '../../src/source/types.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { wrappedCatalog } from '../helpers/faulty-catalog.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { capturingLogger, ERROR_LEVEL, type LogLine } from '../helpers/logs.js'
import { rawRequest } from '../helpers/raw-http.js'
import { getText, underLag } from '../helpers/lag.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Expected operational outcomes (overload refusals, clients that leave) are not errors: they are
 * logged below error level and without a stack, so the error level keeps meaning "a bug".
 */

const PARAMS = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' }

async function until (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10)
  expect(condition()).toBe(true)
}

function expectNoErrorsOrStacks (lines: readonly LogLine[]): void {
  for (const line of lines) {
    expect(line.level, JSON.stringify(line)).toBeLessThan(ERROR_LEVEL)
    expect(JSON.stringify(line), line.msg).not.toMatch(/"stack"|\\n\s+at /)
  }
}

/** A mounted project whose check pass waits, until the export's signal aborts, once `held` is set. */
async function heldCatalog (): Promise<{ catalog: DatasetCatalog, entered: Promise<void> }> {
  const project = await makeKilnProject()
  await project.writeRun('1')
  await project.writeSplit('900000000001', { train: ['1'] })
  let enter = (): void => {}
  const entered = new Promise<void>((resolve) => { enter = resolve })
  const catalog = wrappedCatalog(new KilnProjects(project.root), async function * (source, ids, signal) {
    enter()
    await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }))
    yield * source.runs(ids, signal)
  })
  return { catalog, entered }
}

describe('logs', () => {
  it('record a 503 past MAX_CONCURRENT_EXPORTS below error level, without a stack', async () => {
    const { logger, lines } = capturingLogger()
    const { catalog, entered } = await heldCatalog()
    const server = await startServer({ maxConcurrentExports: 1 }, { logger, catalog })
    const controller = new AbortController()
    const held = server.client.request({
      method: 'POST', path: '/datasets/900000000001/export', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PARAMS), signal: controller.signal
    }).catch(() => undefined)
    await entered
    const other = new Client(server.origin)
    onTestFinished(async () => { await other.destroy() })
    const refused = await postJson(other, '/datasets/900000000001/export', PARAMS)
    expect(refused.status).toBe(503)
    controller.abort()
    await held
    await until(() => server.app.exportSlots.active === 0)
    expectNoErrorsOrStacks(lines)
    expect(lines.find((line) => line.code === 'KEX_TOO_MANY_EXPORTS')?.level).toBe(40)
  })

  it('record a 503 under pressure below error level, without a stack', async () => {
    const { logger, lines } = capturingLogger()
    const server = await startServer({ maxEventLoopDelayMs: 20 }, { logger })
    const response = await underLag(async () => await getText(server.client, '/formats'), (answer) => answer.status === 503)
    expect(response.status).toBe(503)
    expectNoErrorsOrStacks(lines)
    expect(lines.find((line) => line.code === 'KEX_OVERLOADED')?.level).toBe(40)
  })

  it('record a client that leaves during the check pass at info, without a stack', async () => {
    const { logger, lines } = capturingLogger()
    const { catalog, entered } = await heldCatalog()
    const server = await startServer({}, { logger, catalog })
    const controller = new AbortController()
    const request = server.client.request({
      method: 'POST', path: '/datasets/900000000001/export', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PARAMS), signal: controller.signal
    }).catch(() => undefined)
    await entered
    controller.abort()
    await request
    await until(() => server.app.exportSlots.active === 0 && lines.some((line) => line.msg === 'request failed' || line.msg === 'request aborted: the client went away'))
    expect(lines.some((line) => line.msg === 'export aborted: the client went away')).toBe(true)
    expectNoErrorsOrStacks(lines)
  })

  it('still record a bug at error level, with its stack', async () => {
    const { logger, lines } = capturingLogger()
    const broken: DatasetCatalog = {
      list: async () => { throw new TypeError('boom') },
      describe: async () => undefined,
      find: async () => undefined
    }
    const { client } = await startServer({}, { logger, catalog: broken })
    const response = await client.request({ method: 'GET', path: '/datasets' })
    expect(response.statusCode).toBe(500)
    await response.body.dump()
    const failed = lines.find((line) => line.msg === 'request failed')
    expect(failed?.level).toBe(ERROR_LEVEL)
    expect(JSON.stringify(failed)).toContain('TypeError: boom\\n    at ')
  })

  it('never hold a token sent as ?access_token=', async () => {
    const TOKEN = 'q-secret-token-0123456789abcdef'
    const { logger, lines, text } = capturingLogger()
    const broken: DatasetCatalog = {
      list: async () => { throw new Error('boom') },
      describe: async () => undefined,
      find: async () => undefined
    }
    const guarded = await startServer({ apiToken: 'a-long-secret-token-0123456789' }, { logger, catalog: broken })
    const open = await startServer({}, { logger, catalog: broken })
    const paths = [`/formats?access_token=${TOKEN}`, `/formats?x=1&access_token=${TOKEN}&y=2`, `/formats?ACCESS_TOKEN=${TOKEN}`,
      `/formats?access_token=${encodeURIComponent(TOKEN + '/=&')}`, `/nope?access_token=${TOKEN}`, `/datasets/%zz?access_token=${TOKEN}`]
    for (const server of [guarded, open]) {
      for (const path of [...paths, `/datasets?access_token=${TOKEN}`]) {
        const response = await server.client.request({ method: 'GET', path })
        await response.body.dump()
      }
      const exported = await postJson(server.client, `/datasets/100000000001/export?access_token=${TOKEN}`, inlineBody([kilnRun('1')]))
      expect(exported.status).toBeGreaterThanOrEqual(400)
      await rawRequest(server.origin, `GET /formats?access_token=${TOKEN} HTTP/1.1\r\nhost: x\r\nx-bad: a\u0001\r\n\r\n`)
    }
    expect(lines.filter((line) => line.msg === 'incoming request').length).toBeGreaterThanOrEqual(2 * (paths.length + 2))
    expect(text()).not.toContain(TOKEN)
    expect(text()).not.toContain(encodeURIComponent(TOKEN))
    expect(text()).toContain('access_token=[REDACTED]')
  })
})
