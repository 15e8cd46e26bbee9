import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { text } from 'node:stream/consumers'
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createS3Store, parseS3Url, partSizeFor, ResultNotFoundError, ResultStoreUnavailableError, type S3ResultStore } from '../../src/jobs/store/s3-store.js'
import type { ResultManifest } from '../../src/jobs/store/types.js'
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js'

/*
 * The S3 result store against s3rver, an S3-compatible server from npm running in this process
 * (see the README, "Export results in S3"): multipart upload through lib-storage, visibility only
 * after commit, ranges, abort, sweep, delete, and a dead endpoint that fails fast and clearly.
 */

// The SDK's notice that its 2027 releases need Node 22 (README, "Export results in S3"); said once there.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const BUCKET = 'kiln-exports'
const MiB = 1024 * 1024

let s3: TestS3Server
let raw: S3Client

beforeAll(async () => {
  s3 = await startS3Server([BUCKET])
  raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: s3.credentials, forcePathStyle: true })
})

afterAll(async () => {
  raw.destroy()
  await s3.close()
})

function store (prefix = 'results', endpoint = s3.endpoint): S3ResultStore {
  const created = createS3Store({ url: `s3://${BUCKET}/${prefix}`, endpoint, client: { credentials: s3.credentials } })
  onTestFinished(() => created.close())
  return created
}

/** Every key in the bucket under `prefix`. */
async function keys (prefix = ''): Promise<string[]> {
  const page = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))
  return (page.Contents ?? []).map((o) => o.Key ?? '').sort()
}

function manifestFor (jobId: string, data: Buffer): ResultManifest {
  return {
    job_id: jobId,
    file_name: `${jobId}.jsonl`,
    sha256: createHash('sha256').update(data).digest('hex'),
    bytes: data.length,
    lines: 1,
    format: 'openai_chat_jsonl',
    data_strategy: 'final_only',
    dataset_id: 'd1',
    source_digest: 'x',
    service_version: '0.1.0',
    created_at: new Date().toISOString()
  }
}

/** Write `data` through a writer in 64 KiB chunks, the way an export streams. */
async function writeAll (writer: { write: (chunk: Buffer) => Promise<void> }, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 64 * 1024) await writer.write(data.subarray(at, at + 64 * 1024))
}

async function bytesOf (stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

/** A port nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('the S3 result store', () => {
  it('uploads 14 MB written in chunks as a multipart upload and reads it back byte for byte, whole and as a range', async () => {
    const results = store()
    const data = randomBytes(14 * MiB)
    const writer = await results.create('job-big', data.length)
    await writeAll(writer, data)
    const manifest = manifestFor('job-big', data)
    await writer.commit(manifest)

    const stored = await results.get('job-big')
    expect(stored?.manifest).toEqual(manifest)
    expect(stored?.location).toBe(`s3://${BUCKET}/results/job-big.jsonl`)
    expect((await bytesOf(await results.read('job-big'))).equals(data)).toBe(true)
    // More than one part went up (5 MiB parts), then one CompleteMultipartUpload.
    expect(s3.requests.filter((r) => /^PUT \/kiln-exports\/results\/job-big\.jsonl\?.*partNumber=/.test(r)).length).toBe(3)
    expect(s3.requests.filter((r) => /^POST \/kiln-exports\/results\/job-big\.jsonl\?uploadId=/.test(r)).length).toBe(1)

    const range = await bytesOf(await results.read('job-big', { start: 5 * MiB - 10, end: 5 * MiB + 9 }))
    expect(range.equals(data.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true)
    const tail = await bytesOf(await results.read('job-big', { start: data.length - 3, end: data.length - 1 }))
    expect(tail.equals(data.subarray(-3))).toBe(true)
    await expect(results.read('job-big', { start: data.length, end: data.length + 9 })).rejects.toThrow(RangeError)
    expect(await keys('results/')).toEqual(['results/job-big.jsonl', 'results/job-big.manifest.json'])
  })

  it('shows nothing under the job\'s names before commit, also while parts are uploading; a small file too', async () => {
    const results = store('visibility')
    const data = randomBytes(12 * MiB)
    const writer = await results.create('job-1', data.length)
    await writeAll(writer, data)
    // Two 5 MiB parts are up (or on their way); the upload is not complete.
    expect(await results.get('job-1')).toBeUndefined()
    expect(await keys('visibility/')).toEqual([])
    await expect(results.read('job-1')).rejects.toThrow(ResultNotFoundError)
    await writer.commit(manifestFor('job-1', data))
    expect((await results.get('job-1'))?.manifest.bytes).toBe(data.length)

    // Smaller than a part: one PutObject, sent only at commit.
    const small = Buffer.from('{"messages":[]}\n')
    const smallWriter = await results.create('job-2')
    await smallWriter.write(small)
    expect(await results.get('job-2')).toBeUndefined()
    expect(await keys('visibility/job-2')).toEqual([])
    await smallWriter.commit(manifestFor('job-2', small))
    expect(await text(await results.read('job-2'))).toBe(small.toString())
  })

  it('leaves nothing behind when an upload is aborted, and aborts the multipart upload on the server', async () => {
    const results = store('aborted')
    const writer = await results.create('job-a', 20 * MiB)
    await writeAll(writer, randomBytes(11 * MiB))
    await writer.abort()
    expect(await keys('aborted/')).toEqual([])
    expect(await results.get('job-a')).toBeUndefined()
    // lib-storage created the upload and, on abort, sent AbortMultipartUpload (DELETE ?uploadId=).
    // s3rver 3.7 answers that with 405 (it does not implement the call); S3 and MinIO do.
    expect(s3.requests.filter((r) => r.startsWith('POST /kiln-exports/aborted/job-a.jsonl?uploads'))).toHaveLength(1)
    expect(s3.requests.filter((r) => r.startsWith('DELETE /kiln-exports/aborted/job-a.jsonl?uploadId='))).toHaveLength(1)
    await expect(writer.write(Buffer.from('x'))).rejects.toThrow(/write after aborted/)
  })

  it('deletes a result (data and manifest)', async () => {
    const results = store('deleted')
    const data = Buffer.from('line\n')
    const writer = await results.create('job-d')
    await writer.write(data)
    await writer.commit(manifestFor('job-d', data))
    expect(await keys('deleted/')).toHaveLength(2)
    await results.delete('job-d')
    expect(await keys('deleted/')).toEqual([])
    expect(await results.get('job-d')).toBeUndefined()
  })

  it('answers no result for a manifest whose data is gone', async () => {
    const results = store('half')
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'half/job-h.manifest.json', Body: JSON.stringify(manifestFor('job-h', Buffer.alloc(0))) }))
    expect(await results.get('job-h')).toBeUndefined()
  })

  it('sweeps results older than the TTL (by commit time), data left without a manifest too, and nothing else', async () => {
    const results = store('swept')
    for (const id of ['old-1', 'old-2']) {
      const writer = await results.create(id)
      await writer.write(Buffer.from(id))
      await writer.commit(manifestFor(id, Buffer.from(id)))
    }
    // A commit that died between its data and its manifest, and objects that are not results.
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swept/orphan.jsonl', Body: 'x' }))
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swept/notes.txt', Body: 'x' }))
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swept/nested/old-3.manifest.json', Body: '{}' }))
    // A manifest that is not JSON ages by its upload time.
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swept/garbled.manifest.json', Body: 'not json' }))
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swept/garbled.jsonl', Body: 'x' }))

    expect(await results.sweep(60_000)).toBe(0)
    expect(await keys('swept/')).toHaveLength(9)
    // Counted: results (with manifests); the orphan goes without being counted.
    expect(await results.sweep(60_000, Date.now() + 120_000)).toBe(3)
    expect(await keys('swept/')).toEqual(['swept/nested/old-3.manifest.json', 'swept/notes.txt'])
  })

  it('sweeps by the manifest\'s created_at', async () => {
    const results = store('swept-by-age')
    const day = 24 * 3600_000
    for (const [id, age] of [['week-old', 7 * day], ['hour-old', 3600_000]] as const) {
      const writer = await results.create(id)
      await writer.write(Buffer.from(id))
      await writer.commit({ ...manifestFor(id, Buffer.from(id)), created_at: new Date(Date.now() - age).toISOString() })
    }
    expect(await results.sweep(day)).toBe(1)
    expect(await keys('swept-by-age/')).toEqual(['swept-by-age/hour-old.jsonl', 'swept-by-age/hour-old.manifest.json'])
  })

  it('fails create with a clear error within seconds when the endpoint is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const results = store('dead', endpoint)
    const started = Date.now()
    const failure = await results.create('job-x', 1000).then(() => undefined, (err: unknown) => err)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(failure).toBeInstanceOf(ResultStoreUnavailableError)
    const message = (failure as Error).message
    expect(message).toContain(`s3://${BUCKET}/dead at ${endpoint}`)
    expect(message).toMatch(/ECONNREFUSED/)
    expect(message).toMatch(/check EXPORTS_S3_ENDPOINT, the network to it, and the AWS credentials/)
    await expect(results.get('job-x')).rejects.toThrow(ResultStoreUnavailableError)
  })

  it('fails write or commit with the same clear error when the endpoint dies mid-export, and leaves nothing', async () => {
    const own = await startS3Server([BUCKET])
    onTestFinished(own.close)
    const results = store('dying', own.endpoint)
    const writer = await results.create('job-y', 20 * MiB)
    await own.close()
    const started = Date.now()
    const failure = await (async () => {
      await writeAll(writer, randomBytes(12 * MiB))
      await writer.commit(manifestFor('job-y', Buffer.alloc(0)))
    })().then(() => undefined, (err: unknown) => err)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(failure).toBeInstanceOf(ResultStoreUnavailableError)
    expect((failure as Error).message).toContain(`s3://${BUCKET}/dying at ${own.endpoint}`)
    await writer.abort()
    // Nothing reached the server after it closed: the upload was never even created.
    expect(own.requests.filter((r) => !r.startsWith('HEAD '))).toEqual([])
  })

  it('sizes parts from the expected size (at least 5 MiB, planned for 9,000 parts, whole MiB)', () => {
    expect(partSizeFor(undefined)).toBe(5 * MiB)
    expect(partSizeFor(14 * MiB)).toBe(5 * MiB)
    expect(partSizeFor(45_000 * MiB)).toBe(5 * MiB)
    expect(partSizeFor(45_000 * MiB + 1)).toBe(6 * MiB)
    // 1 TB: 106 MiB parts, 8,997 of them.
    expect(partSizeFor(1e12)).toBe(106 * MiB)
  })

  it('reads s3://bucket/prefix and refuses anything else', () => {
    expect(parseS3Url('s3://kiln-exports/a/b/')).toEqual({ bucket: 'kiln-exports', prefix: 'a/b' })
    expect(parseS3Url('s3://kiln-exports')).toEqual({ bucket: 'kiln-exports', prefix: '' })
    expect(() => parseS3Url('https://kiln-exports/a')).toThrow(/EXPORTS_S3_URL/)
    expect(() => parseS3Url('s3://kiln-exports/a/../b')).toThrow(/\.\./)
  })

  it('refuses a job id that would leave the prefix', async () => {
    await expect(store('x').get('../escape')).rejects.toThrow(TypeError)
    await expect(store('x').create('a/b')).rejects.toThrow(TypeError)
  })
})
