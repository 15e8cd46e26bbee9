import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { type FileBatch, type FileBatchRequest } from '../../../src/source/mounted/file-batch.js'
import { KilnProjects } from '../../../src/source/mounted/kiln-projects.js'
import { RunFileReader } from '../../../src/source/mounted/run-file-reader.js'
import { makeKilnProject } from '../../helpers/kiln-project.js'

/** A reader whose "worker" answers late; counts the batches it read and those read on this thread. */
class SlowReader extends RunFileReader {
  byWorker = 0
  here = 0
  constructor (private readonly delayMs: number) {
    super({ threads: false })
  }

  override async read (request: FileBatchRequest): Promise<FileBatch> {
    await sleep(this.delayMs)
    this.byWorker++
    return super.readHere(request)
  }

  override readHere (request: FileBatchRequest): FileBatch {
    this.here++
    return super.readHere(request)
  }
}

describe('reading a split\'s runs', () => {
  it('reads batches itself while the worker is late, and still yields every run once, in split order', async () => {
    const project = await makeKilnProject()
    const ids = Array.from({ length: 700 }, (_, i) => String(1000 + ((i * 37) % 700)))
    for (const id of ids) await project.writeRun(id)
    await project.writeSplit('900000000001', { train: ids })
    const reader = new SlowReader(30)
    const source = await new KilnProjects(project.root, { reader, batchSize: 16 }).find('900000000001')
    const seen: string[] = []
    for await (const batch of source?.runs(source.split.split_contents.train ?? []) ?? []) {
      for (const lookup of batch) {
        expect(lookup.status).toBe('found')
        if (lookup.status === 'found') expect(lookup.run.id).toBe(lookup.id)
        seen.push(lookup.id)
      }
    }
    expect(seen).toEqual(ids)
    // 44 batches, each read once: the late "worker" read some, this thread the others instead of waiting.
    expect(reader.byWorker + reader.here).toBe(Math.ceil(ids.length / 16))
    expect(reader.here).toBeGreaterThan(10)
    expect(reader.byWorker).toBeGreaterThan(0)
  })
})
