import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILE_LINK, FILE_MISSING, FILE_NOT_REGULAR, FILE_OK, type FileBatch, readFileBatch } from '../../../src/source/mounted/file-batch.js'
import { linkNames } from '../../../src/source/mounted/kiln-files.js'
import { RunFileReader } from '../../../src/source/mounted/run-file-reader.js'

/** runs/: a.. small files, one of 300 KB, a link, a folder in place of the file, a plain file. */
let dir: string
let outside: string
const big = 'é'.repeat(150_000)
const NAMES = ['a', 'big', 'gone', 'linked', 'folder', 'plain', '..', 'b']

beforeAll(async () => {
  // A real path, as KilnProjects gives the reader (a link on the way would refuse every file).
  dir = await realpath(await mkdtemp(join(tmpdir(), 'kiln-export-reader-')))
  outside = await mkdtemp(join(tmpdir(), 'kiln-export-outside-'))
  const write = async (name: string, text: string): Promise<void> => {
    await mkdir(join(dir, name), { recursive: true })
    await writeFile(join(dir, name, 'task_run.kiln'), text)
  }
  await write('a', '{"id": "a"}')
  await write('b', 'ünïcödé b')
  await write('big', big)
  await mkdir(join(outside, 'secret'))
  await writeFile(join(outside, 'secret', 'task_run.kiln'), 'secret')
  await symlink(join(outside, 'secret'), join(dir, 'linked'))
  await mkdir(join(dir, 'folder', 'task_run.kiln'), { recursive: true })
  await writeFile(join(dir, 'plain'), 'not a folder')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await rm(outside, { recursive: true, force: true })
})

function texts (batch: FileBatch): string[] {
  return NAMES.map((_, i) => Buffer.from(batch.bytes).toString('utf8', batch.starts[i], batch.starts[i + 1]))
}

async function readAll (reader: RunFileReader): Promise<FileBatch> {
  const links = [...await linkNames(dir)]
  expect(links).toEqual(['linked'])
  return await reader.read({ dir, names: NAMES, file: 'task_run.kiln', links })
}

function expectTheBatch (batch: FileBatch): void {
  expect([...batch.status]).toEqual([FILE_OK, FILE_OK, FILE_MISSING, FILE_LINK, FILE_NOT_REGULAR, FILE_MISSING, FILE_MISSING, FILE_OK])
  expect(texts(batch)).toEqual(['{"id": "a"}', big, '', '', '', '', '', 'ünïcödé b'])
  expect(batch.codes[4]).toBe('a folder')
}

describe('reading batches of run files', () => {
  it('reads every file whole, and says why the others were not read, on the main thread', () => {
    expectTheBatch(readFileBatch({ dir, names: NAMES, file: 'task_run.kiln', links: ['linked'] }))
  })

  it('refuses a run folder that is a link the link listing missed (swapped for one after it was taken)', () => {
    const batch = readFileBatch({ dir, names: ['a', 'linked'], file: 'task_run.kiln', links: [] })
    expect([...batch.status]).toEqual([FILE_OK, FILE_LINK])
    expect(texts(batch).slice(0, 2)).toEqual(['{"id": "a"}', ''])
  })

  it('reads the same on its worker thread, and concurrent batches each get their own answer', async () => {
    const reader = new RunFileReader()
    try {
      const [first, second] = await Promise.all([readAll(reader), readAll(reader)])
      expect(reader.threaded).toBe(true)
      expectTheBatch(first)
      expectTheBatch(second)
    } finally {
      await reader.close()
    }
  })

  it('loses no batch when its worker stops: what it owed is read on the main thread', async () => {
    const reader = new RunFileReader()
    try {
      await readAll(reader) // the worker is up
      const owed = Array.from({ length: 20 }, async () => await reader.read({ dir, names: NAMES, file: 'task_run.kiln', links: ['linked'] }))
      await reader.close()
      for (const batch of await Promise.all(owed)) expectTheBatch(batch)
      expect(reader.threaded).toBe(false)
      expectTheBatch(await readAll(reader)) // and a new worker serves the next one
      expect(reader.threaded).toBe(true)
    } finally {
      await reader.close()
    }
  })

  it('falls back to the main thread for good when its worker cannot load', async () => {
    let spawned = 0
    const reader = new RunFileReader({
      spawn: () => {
        spawned++
        return new Worker('throw new Error("cannot load")', { eval: true })
      }
    })
    expectTheBatch(await readAll(reader)) // owed by the broken worker, read here instead
    expectTheBatch(await readAll(reader))
    expect(reader.threaded).toBe(false)
    expect(spawned).toBe(1)
  })

  it('reads on the main thread when told to (no worker)', async () => {
    const reader = new RunFileReader({ threads: false })
    expectTheBatch(await readAll(reader))
    expect(reader.threaded).toBe(false)
  })
})
