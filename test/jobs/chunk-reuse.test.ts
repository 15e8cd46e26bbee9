import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { SpoolBudget } from '../../src/export/spool.js'
import { sourceDigest } from '../../src/jobs/job-id.js'
import { runExportJob } from '../../src/jobs/run-job.js'
import { LocalResultStore } from '../../src/jobs/store/local-store.js'
import { type ResultStore, type ResultWriter } from '../../src/jobs/store/types.js'
import { type ExportJobRequest } from '../../src/jobs/types.js'
import { resolveSource } from '../../src/http/resolve-source.js'
import { inlineBody, kilnRun } from '../helpers/kiln-data.js'
import { tempExportsDir } from '../helpers/jobs.js'

/*
 * An export job writing to the local store gives each written chunk back to the export's pool
 * (export/chunk-pool.ts), so a long job runs on a few buffers; a writer that does not say its
 * writes are done with their chunks (ResultWriter.releasesChunks) gets a fresh buffer every time.
 * The file must hold exactly the export's bytes either way.
 */

const runs = Array.from({ length: 1500 }, (_, i) => kilnRun(String(600000000000 + i), { output: `${i} ${'ü'.repeat(200)}${'y'.repeat(3000 + (i % 300))}` }))
const request = inlineBody(runs, { dataset_id: '100000000001' }) as unknown as ExportJobRequest

/** A store whose writers record the ArrayBuffer behind each chunk they are given. */
function recording (inner: ResultStore, releases: boolean, seen: ArrayBufferLike[]): ResultStore {
  return {
    ...inner,
    get: inner.get.bind(inner),
    read: inner.read.bind(inner),
    async create (id: string): Promise<ResultWriter> {
      const writer = await inner.create(id)
      return {
        ...(releases ? { releasesChunks: true } : {}),
        async write (chunk: Buffer) {
          seen.push(chunk.buffer)
          await writer.write(chunk)
        },
        commit: writer.commit.bind(writer),
        abort: writer.abort.bind(writer)
      }
    }
  } as ResultStore
}

async function runJob (releases: boolean): Promise<{ bytes: Buffer, sha256: string, chunks: number, buffers: number }> {
  const dir = await tempExportsDir()
  const spoolDir = await mkdtemp(join(tmpdir(), 'kiln-export-job-spool-'))
  onTestFinished(async () => { await rm(spoolDir, { recursive: true, force: true }) })
  const local = new LocalResultStore(dir)
  const seen: ArrayBufferLike[] = []
  const source = await resolveSource(request.dataset_id, request, undefined)
  const input = { id: `ex_${releases ? 'a' : 'b'}${'0'.repeat(31)}`, request, source_digest: await sourceDigest(request, source), created_at: new Date().toISOString() }
  const manifest = await runExportJob(input, {
    store: recording(local, releases, seen),
    tuning: { bufferBytes: 128 * 1024, chunkBytes: 64 * 1024, spool: { dir: spoolDir, budget: new SpoolBudget(1 << 30) } }
  }, { phase () {}, progress () {} }, new AbortController().signal)
  const bytes = await readFile(local.filePath(input.id))
  return { bytes, sha256: manifest.sha256, chunks: seen.length, buffers: new Set(seen).size }
}

describe('an export job on the local store', () => {
  it('reuses the buffers of chunks the file has taken, and writes the same bytes as without reuse', async () => {
    const reused = await runJob(true)
    const fresh = await runJob(false)
    expect(reused.bytes.length).toBeGreaterThan(4 * 1024 * 1024)
    expect(reused.bytes.equals(fresh.bytes)).toBe(true)
    expect(createHash('sha256').update(reused.bytes).digest('hex')).toBe(reused.sha256)
    expect(reused.bytes.toString('utf8').split('\n')).toHaveLength(runs.length + 1)
    // Without the release every chunk is a buffer of its own; with it, a few buffers go round.
    expect(fresh.buffers).toBe(fresh.chunks)
    expect(reused.buffers).toBeLessThan(reused.chunks / 4)
  })
})
