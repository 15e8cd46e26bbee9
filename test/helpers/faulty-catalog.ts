import { type DatasetCatalog, type DatasetSource } from '../../src/source/types.js'

/**
 * Wrap a catalog so that `beforePass(n)` runs when pass n of an export starts reading runs (pass 1
 * checks, pass 2 streams): tests use it to change the project between the two passes, or to
 * count reads.
 */
export function hookedCatalog (inner: DatasetCatalog, beforePass: (pass: number) => Promise<void> | void): DatasetCatalog {
  return {
    list: () => inner.list(),
    describe: (id) => inner.describe(id),
    async find (id) {
      const source = await inner.find(id)
      if (source === undefined) return undefined
      let passes = 0
      const hooked: DatasetSource = {
        split: source.split,
        async * runs (ids, signal) {
          await beforePass(++passes)
          yield * source.runs(ids, signal)
        }
      }
      return hooked
    }
  }
}
