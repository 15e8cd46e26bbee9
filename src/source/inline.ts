import { type DatasetSplitData, type TaskRunData } from '../format/index.js'
import { type DatasetSource, type RunLookup } from './types.js'

/** Runs handed over per batch: large enough to amortise the await, small enough to stream. */
const BATCH_SIZE = 256

/**
 * A source over runs sent in the request body. Like Kiln's `{run.id: run}` map, a later run with
 * the same id replaces an earlier one.
 */
export function inlineSource (split: DatasetSplitData, taskRuns: readonly TaskRunData[], structuredOutput = false): DatasetSource {
  const byId = new Map<string, TaskRunData>()
  for (const run of taskRuns) byId.set(run.id, run)
  return {
    split,
    structuredOutput,
    async * runs (ids, signal): AsyncIterable<readonly RunLookup[]> {
      for (let start = 0; start < ids.length; start += BATCH_SIZE) {
        if (signal?.aborted === true) return
        yield Array.from(ids.slice(start, start + BATCH_SIZE), (id): RunLookup => {
          const run = byId.get(id)
          return run === undefined ? { id, status: 'missing' } : { id, status: 'found', run }
        })
      }
    }
  }
}
