import { setTimeout as delay } from 'node:timers/promises'
import { type ResultStore } from '../../src/jobs/store/types.js'

/** A store whose writes each wait `ms` first: a job that takes a while, to act on it mid-way. */
export function slowStore (inner: ResultStore, ms: number): ResultStore {
  return {
    kind: inner.kind,
    create: async (jobId, expected) => {
      const writer = await inner.create(jobId, expected)
      return {
        write: async (chunk) => { await delay(ms); await writer.write(chunk) },
        commit: async (manifest) => { await writer.commit(manifest) },
        abort: async () => { await writer.abort() }
      }
    },
    get: async (id) => await inner.get(id),
    read: async (id, range) => await inner.read(id, range),
    delete: async (id) => { await inner.delete(id) },
    sweep: async (ttl, now) => await inner.sweep(ttl, now)
  }
}
