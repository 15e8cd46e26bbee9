import { mkdtemp, open, readdir, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { type ExportTuning } from '../../src/export/prepare-export.js'
import { SPOOL_PREFIX, SpoolBudget, removeStaleSpools, type SpoolOptions } from '../../src/export/spool.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { hookedCatalog, wrappedCatalog } from '../helpers/faulty-catalog.js'
import { makeKilnProject, type TempProject } from '../helpers/kiln-project.js'
import { startServer } from '../helpers/server.js'

/*
 * The export's private spool (src/export/spool.ts): each line is formatted once, in the check
 * pass, and streamed from a file only that export can see. Every test compares the bytes with the
 * two-pass export's, and counts how often the runs were read (hookedCatalog).
 */

const SPLIT_ID = '333333333333'
const RUNS = 300
/** About 2 KB a line: 300 runs make a 600 KB file, many chunks of 8 KB. */
const LONG = 'é'.repeat(400) + 'x'.repeat(1200)

async function project (): Promise<TempProject> {
  const p = await makeKilnProject()
  const ids = Array.from({ length: RUNS }, (_, i) => String(400000000000 + i))
  for (const id of ids) await p.writeRun(id, { output: `${id} ${LONG}` })
  await p.writeSplit(SPLIT_ID, { train: ids, test: [] })
  return p
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-spool-test-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

const BODY = { split_name: 'train', format: 'openai_chat_jsonl', system_message: 'Be brief.' }

/** Export the split through a real server; returns the bytes, the trailers and how many passes read the runs. */
async function exportWith (p: TempProject, tuning: ExportTuning | undefined, body: object = BODY, batchDelayMs = 0): Promise<{ bytes: Buffer, trailers: Record<string, unknown>, passes: number }> {
  let passes = 0
  const counted = hookedCatalog(new KilnProjects(p.root, { batchSize: 8 }), (pass) => { passes = Math.max(passes, pass) })
  // A slow reader gives the spool's writes time to finish (or fail) while the check pass runs.
  const catalog = batchDelayMs === 0
    ? counted
    : wrappedCatalog(counted, async function * (source, ids, signal) {
      for await (const batch of source.runs(ids, signal)) {
        await new Promise((resolve) => setTimeout(resolve, batchDelayMs))
        yield batch
      }
    })
  const { client } = await startServer({}, { catalog, ...(tuning === undefined ? {} : { exportTuning: tuning }) })
  const response = await client.request({ method: 'POST', path: `/datasets/${SPLIT_ID}/export`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  expect(response.statusCode).toBe(200)
  const bytes = Buffer.from(await response.body.arrayBuffer())
  return { bytes, trailers: response.trailers, passes }
}

const TWO_PASS: ExportTuning = { bufferBytes: 16 * 1024, chunkBytes: 8 * 1024 }
const withSpool = (spool: SpoolOptions): ExportTuning => ({ ...TWO_PASS, spool })

describe('the export spool', () => {
  it('formats each run once and streams the same bytes as two passes; nothing is left on disk or in the budget', async () => {
    const p = await project()
    const dir = await tempDir()
    const budget = new SpoolBudget(64 * 1024 * 1024)
    const twoPass = await exportWith(p, TWO_PASS)
    expect(twoPass.passes).toBe(2)
    const spooled = await exportWith(p, withSpool({ dir, budget }))
    expect(spooled.passes).toBe(1)
    expect(spooled.bytes.equals(twoPass.bytes)).toBe(true)
    expect(spooled.bytes.toString('utf8').split('\n')).toHaveLength(RUNS + 1)
    expect(spooled.trailers['x-export-sha256']).toBe(twoPass.trailers['x-export-sha256'])
    expect(await readdir(dir)).toEqual([])
    expect(budget.heldBytes).toBe(0)
  })

  it('stops at SPOOL_MAX_BYTES and streams the rest from a second pass, same bytes', async () => {
    const p = await project()
    const reasons: string[] = []
    const budget = new SpoolBudget(100 * 1024)
    const twoPass = await exportWith(p, TWO_PASS)
    const capped = await exportWith(p, withSpool({ dir: await tempDir(), budget, onStop: (reason) => reasons.push(reason) }))
    expect(capped.passes).toBe(2)
    expect(capped.bytes.equals(twoPass.bytes)).toBe(true)
    expect(reasons).toEqual([expect.stringContaining('SPOOL_MAX_BYTES')])
    expect(budget.heldBytes).toBe(0)
  })

  it('runs in two passes when SPOOL_DIR cannot hold a file', async () => {
    const p = await project()
    const notAFolder = join(await tempDir(), 'file')
    await writeFile(notAFolder, '')
    const reasons: string[] = []
    const result = await exportWith(p, withSpool({ dir: notAFolder, budget: new SpoolBudget(1 << 30), onStop: (reason) => reasons.push(reason) }))
    expect(result.passes).toBe(2)
    expect(result.bytes.equals((await exportWith(p, TWO_PASS)).bytes)).toBe(true)
    expect(reasons).toEqual([expect.stringContaining('no spool file')])
  })

  it.each([['at once', 0], ['while the check pass still reads', 5]])('a disk that fills up mid-way (write failure seen %s): the lines after the last whole write are formatted again, same bytes', async (_when, batchDelayMs) => {
    const p = await project()
    const budget = new SpoolBudget(1 << 30)
    const reasons: string[] = []
    // A real file whose writes fail with ENOSPC past 200 KB, as a full disk does.
    const openFile = async (path: string): Promise<FileHandle> => {
      const handle = await open(path, 'wx+', 0o600)
      const write = handle.write.bind(handle) as (buffer: Buffer, offset: number, length: number, position: number) => Promise<{ bytesWritten: number }>
      return new Proxy(handle, {
        get (target, key, receiver) {
          if (key !== 'write') return Reflect.get(target, key, receiver)
          return async (buffer: Buffer, offset: number, length: number, position: number) => {
            if (position + length > 200 * 1024) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
            return await write(buffer, offset, length, position)
          }
        }
      })
    }
    const result = await exportWith(p, withSpool({ dir: await tempDir(), budget, openFile, onStop: (reason) => reasons.push(reason) }), BODY, batchDelayMs)
    expect(result.passes).toBe(2)
    expect(result.bytes.equals((await exportWith(p, TWO_PASS)).bytes)).toBe(true)
    expect(reasons).toEqual([expect.stringContaining('ENOSPC')])
    expect(budget.heldBytes).toBe(0)
  })

  it('concurrent exports never share a file: each gets its own lines', async () => {
    const p = await project()
    const dir = await tempDir()
    const budget = new SpoolBudget(1 << 30)
    const catalog = new KilnProjects(p.root)
    const { client } = await startServer({}, { catalog, exportTuning: withSpool({ dir, budget }) })
    const messages = ['one', 'two', 'three', 'four']
    const bodies = await Promise.all(messages.map(async (message) => {
      const response = await client.request({ method: 'POST', path: `/datasets/${SPLIT_ID}/export`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...BODY, system_message: message }) })
      expect(response.statusCode).toBe(200)
      return await response.body.text()
    }))
    bodies.forEach((text, i) => {
      const lines = text.trimEnd().split('\n')
      expect(lines).toHaveLength(RUNS)
      for (const line of lines) expect(line.startsWith(`{"messages": [{"role": "system", "content": "${messages[i] ?? ''}"}`)).toBe(true)
    })
    expect(await readdir(dir)).toEqual([])
    expect(budget.heldBytes).toBe(0)
  })

  it('a client that goes away mid-stream: the spool is closed and its bytes given back', async () => {
    const p = await project()
    const budget = new SpoolBudget(1 << 30)
    let closed = false
    let reads = 0
    // Reads back slowly, so the client goes away while the file is still being streamed.
    const openFile = async (path: string): Promise<FileHandle> => {
      const handle = await open(path, 'wx+', 0o600)
      return new Proxy(handle, {
        get (target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown
          if (typeof value !== 'function') return value
          return async (...args: unknown[]) => {
            if (key === 'read') {
              reads++
              await new Promise((resolve) => setTimeout(resolve, 500))
            }
            if (key === 'close') closed = true
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          }
        }
      })
    }
    const { origin } = await startServer({}, { catalog: new KilnProjects(p.root), exportTuning: { ...withSpool({ dir: await tempDir(), budget, openFile }), bufferBytes: 1 } })
    const controller = new AbortController()
    const response = await fetch(`${origin}/datasets/${SPLIT_ID}/export`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BODY), signal: controller.signal })
    expect(response.status).toBe(200)
    // The headers are out: the whole file is spooled, and is being read back.
    expect(budget.heldBytes).toBeGreaterThan(300 * 1024)
    expect(closed).toBe(false)
    controller.abort()
    for (let i = 0; i < 200 && budget.heldBytes > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(budget.heldBytes).toBe(0)
    expect(closed).toBe(true)
    // Stopped early: the 630 KB file takes 3 reads of 256 KB to stream whole.
    expect(reads).toBeLessThan(3)
  })

  it('the service spools by default (SPOOL_MAX_BYTES, SPOOL_DIR) and SPOOL_MAX_BYTES=0 turns it off', async () => {
    const config = loadConfig({})
    expect(config.spoolMaxBytes).toBe(2 * 1024 ** 3)
    expect(config.spoolDir).toBe(tmpdir())
    expect(loadConfig({ SPOOL_MAX_BYTES: '0' }).spoolMaxBytes).toBe(0)
    // More than the 1 MiB buffer: read once with the default tuning.
    const p = await project()
    for (let i = 0; i < 400; i++) await p.writeRun(String(500000000000 + i), { output: LONG })
    await p.writeSplit(SPLIT_ID, { train: [...Array.from({ length: RUNS }, (_, i) => String(400000000000 + i)), ...Array.from({ length: 400 }, (_, i) => String(500000000000 + i))], test: [] })
    const spooled = await exportWith(p, undefined)
    expect(spooled.bytes.length).toBeGreaterThan(1024 * 1024)
    expect(spooled.passes).toBe(1)
  })

  it('removes the spool files an earlier process left, and nothing else', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, `${SPOOL_PREFIX}abc`), 'x')
    await writeFile(join(dir, 'other.jsonl'), 'x')
    expect(await removeStaleSpools(dir)).toBe(1)
    expect(await readdir(dir)).toEqual(['other.jsonl'])
    expect(await removeStaleSpools(join(dir, 'missing'))).toBe(0)
  })
})
