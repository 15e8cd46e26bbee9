import { type RunIdList } from '../../src/format/index.js'
import { type DatasetCatalog, type DatasetSource, type RunLookup } from '../../src/source/types.js'

/**
 * Wrap a catalog so that every export's run reads go through `runs` (which may delay, count or change
 * them). The source's `contentDigest` (the job id's digest, which reads no run) is kept as it is.
 */
export function wrappedCatalog (
  inner: DatasetCatalog,
  runs: (source: DatasetSource, ids: RunIdList, signal?: AbortSignal) => AsyncIterable<readonly RunLookup[]>
): DatasetCatalog {
  return {
    list: () => inner.list(),
    describe: (id) => inner.describe(id),
    async find (id) {
      const source = await inner.find(id)
      if (source === undefined) return undefined
      const wrapped: DatasetSource = { split: source.split, runs: (ids, signal) => runs(source, ids, signal) }
      return source.contentDigest === undefined ? wrapped : { ...wrapped, contentDigest: source.contentDigest.bind(source) }
    }
  }
}

/**
 * Wrap a catalog so that `beforePass(n)` runs when pass n of an export starts reading runs (pass 1
 * checks, pass 2 streams): tests use it to change the project between the two passes, or to
 * count reads. Passes are counted per export.
 */
export function hookedCatalog (inner: DatasetCatalog, beforePass: (pass: number) => Promise<void> | void): DatasetCatalog {
  const passes = new WeakMap<DatasetSource, number>()
  return wrappedCatalog(inner, async function * (source, ids, signal) {
    const pass = (passes.get(source) ?? 0) + 1
    passes.set(source, pass)
    await beforePass(pass)
    yield * source.runs(ids, signal)
  })
}
