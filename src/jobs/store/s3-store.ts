import { once } from 'node:events'
import { PassThrough, type Readable } from 'node:stream'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { ResultManifest, ResultStore, ResultWriter, StoredResult } from './types.js'

/*
 * Export results in an S3 bucket (or an S3-compatible server), shared by workers on many machines.
 *
 * The contract: nothing is visible under a job's names until the job commits. The JSONL goes to its
 * final key, `<prefix>/<jobId>.jsonl`, as a multipart upload, which S3 keeps invisible until
 * CompleteMultipartUpload (a file smaller than one part goes up as one PutObject, sent only at
 * commit, equally all-or-nothing). The manifest, `<prefix>/<jobId>.manifest.json`, is written last:
 * it is the commit point, `get` answers only once it exists, and `sweep` works from manifests. An
 * aborted or failed upload is aborted on S3 (AbortMultipartUpload), so no parts are left billed.
 * A worker killed mid-upload cannot abort: give the bucket a lifecycle rule
 * (AbortIncompleteMultipartUpload, e.g. after 1 day) for those.
 *
 * Credentials come from the AWS SDK's default chain only (environment, shared files, web identity,
 * container or instance roles); this module never reads them itself.
 */

/** S3 allows at most 10,000 parts of at least 5 MiB (the last part may be smaller). */
const MIN_PART_BYTES = 5 * 1024 * 1024
const MiB = 1024 * 1024
/** Parts are sized for 9,000, so an export up to 11% larger than its estimate still fits in 10,000. */
const PLANNED_PARTS = 9000

/**
 * The multipart part size for an export of about `expectedBytes`: max(5 MiB, expected / 9,000),
 * rounded up to a whole MiB. Without an estimate, 5 MiB (uploads up to about 48 GiB).
 */
export function partSizeFor (expectedBytes: number | undefined): number {
  if (expectedBytes === undefined || !Number.isFinite(expectedBytes) || expectedBytes <= 0) return MIN_PART_BYTES
  return Math.max(MIN_PART_BYTES, Math.ceil(expectedBytes / PLANNED_PARTS / MiB) * MiB)
}

/** The result store cannot reach its bucket: endpoint, network, credentials, permissions or bucket name. */
export class ResultStoreUnavailableError extends Error {
  override readonly name = 'ResultStoreUnavailableError'
}

/** `read` of a job that has no result in the store. */
export class ResultNotFoundError extends Error {
  override readonly name = 'ResultNotFoundError'
}

/** Where results go: `s3://bucket` or `s3://bucket/some/prefix` (EXPORTS_S3_URL). */
export interface S3Location { readonly bucket: string, readonly prefix: string }

/** Parse EXPORTS_S3_URL; throws naming the variable when it is not `s3://bucket[/prefix]`. */
export function parseS3Url (url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url)
  if (match === null) throw new Error(`EXPORTS_S3_URL must look like s3://bucket or s3://bucket/prefix (a valid bucket name), got ${JSON.stringify(url)}`)
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '')
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) throw new Error('EXPORTS_S3_URL must not hold . or .. segments')
  return { bucket: match[1] ?? '', prefix }
}

export interface S3StoreOptions {
  /** EXPORTS_S3_URL: `s3://bucket/prefix`. */
  readonly url: string
  /** EXPORTS_S3_ENDPOINT: an S3-compatible server (MinIO, s3rver, …); addressed path-style. */
  readonly endpoint?: string | undefined
  /** AWS_REGION; default us-east-1 (S3-compatible servers mostly ignore it). */
  readonly region?: string | undefined
  /** Time to open a connection (ms); default 3,000. */
  readonly connectionTimeoutMs?: number
  /** A request with no bytes moving for this long fails (ms); default 30,000. */
  readonly requestTimeoutMs?: number
  /** Attempts per request, first included; default 2. */
  readonly maxAttempts?: number
  /** Parts uploaded at once per export; buffered memory is about (this + 1) parts. Default 2. */
  readonly queueSize?: number
  /** Extra S3Client settings (tests pass `credentials` for a local server); applied last. */
  readonly client?: S3ClientConfig
}

/** The S3 result store, plus `close()` for its connections. */
export interface S3ResultStore extends ResultStore {
  readonly kind: 's3'
  readonly bucket: string
  readonly prefix: string
  close (): void
}

/** Job ids become object keys: no separators, no dots in front, nothing S3 would need escaped. */
const JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/
const MANIFEST_SUFFIX = '.manifest.json'
const DATA_SUFFIX = '.jsonl'

/** A result store in the bucket (and under the prefix) of `options.url`. */
export function createS3Store (options: S3StoreOptions): S3ResultStore {
  const { bucket, prefix } = parseS3Url(options.url)
  const endpoint = options.endpoint === undefined || options.endpoint === '' ? undefined : options.endpoint
  const client = new S3Client({
    region: options.region ?? 'us-east-1',
    // A dead endpoint must fail an export within seconds, not after the SDK's default retries
    // (3 attempts with back-off) on a connection that never opens (no default connect timeout).
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: { connectionTimeout: options.connectionTimeoutMs ?? 3000, requestTimeout: options.requestTimeoutMs ?? 30_000 },
    ...(endpoint === undefined
      ? {}
      : {
          endpoint,
          // S3-compatible servers serve buckets by path (no wildcard DNS), and many reject the
          // CRC checksums the SDK sends by default since 3.729: send them only where S3 requires them.
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const
        }),
    ...options.client
  })
  const where = `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}${endpoint === undefined ? '' : ` at ${endpoint}`}`
  const keyOf = (name: string): string => prefix === '' ? name : `${prefix}/${name}`
  const listPrefix = prefix === '' ? '' : `${prefix}/`

  /** Wrap an SDK failure in an error that says which bucket failed and what to check. */
  function unavailable (err: unknown, action: string): ResultStoreUnavailableError {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined
    const hint = status === 403
      ? 'check the AWS credentials and that they allow s3:ListBucket, GetObject, PutObject, DeleteObject and AbortMultipartUpload on the bucket'
      : status === 404
        ? 'check the bucket name in EXPORTS_S3_URL'
        : status === 301 || status === 400
          ? 'check AWS_REGION (the bucket\'s region) and EXPORTS_S3_ENDPOINT'
          : /credential/i.test(detail)
            ? 'check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the pod\'s role)'
            : `check EXPORTS_S3_ENDPOINT${endpoint === undefined ? ' (unset: AWS S3)' : ''}, the network to it, and the AWS credentials`
    return new ResultStoreUnavailableError(`result store ${where}: ${action} failed (${detail}); ${hint}`, { cause: err })
  }

  function checkJobId (jobId: string): void {
    if (!JOB_ID.test(jobId)) throw new TypeError(`job id ${JSON.stringify(jobId)} cannot name an object (letters, digits, . _ - only)`)
  }

  /** The job's manifest, or undefined; a manifest that is not JSON throws SyntaxError (as in the local store). */
  async function getManifest (jobId: string): Promise<ResultManifest | undefined> {
    let text: string | undefined
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(jobId + MANIFEST_SUFFIX) }))
      text = await answer.Body?.transformToString('utf8')
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw unavailable(err, `reading the manifest of job ${jobId}`)
    }
    return text === undefined ? undefined : JSON.parse(text) as ResultManifest
  }

  async function deleteKeys (jobId: string): Promise<void> {
    // Manifest first: from then on the result is gone for `get`, even if deleting the data fails.
    for (const key of [keyOf(jobId + MANIFEST_SUFFIX), keyOf(jobId + DATA_SUFFIX)]) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
      } catch (err) {
        throw unavailable(err, `deleting ${key}`)
      }
    }
  }

  return {
    kind: 's3',
    bucket,
    prefix,

    async create (jobId, expectedBytes) {
      checkJobId(jobId)
      // Fail before the export runs, not after it has streamed gigabytes into a dead connection.
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }))
      } catch (err) {
        throw unavailable(err, 'checking the bucket')
      }
      return new S3ResultWriter({
        client,
        bucket,
        dataKey: keyOf(jobId + DATA_SUFFIX),
        manifestKey: keyOf(jobId + MANIFEST_SUFFIX),
        partSize: partSizeFor(expectedBytes),
        queueSize: options.queueSize ?? 2,
        unavailable
      })
    },

    async get (jobId) {
      checkJobId(jobId)
      const manifest = await getManifest(jobId)
      if (manifest === undefined) return undefined
      // A manifest without its data (deleted by hand, a delete half done) is no result.
      const key = keyOf(jobId + DATA_SUFFIX)
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw unavailable(err, `checking ${key}`)
      }
      return { manifest, location: `s3://${bucket}/${key}` } satisfies StoredResult
    },

    async read (jobId, range) {
      checkJobId(jobId)
      const key = keyOf(jobId + DATA_SUFFIX)
      try {
        const answer = await client.send(new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` })
        }))
        if (answer.Body === undefined) throw new ResultNotFoundError(`no result for job ${jobId} in ${where}`)
        // In Node.js the body is the response's IncomingMessage.
        return answer.Body as Readable
      } catch (err) {
        if (isNotFound(err)) throw new ResultNotFoundError(`no result for job ${jobId} in ${where}`, { cause: err })
        if (err instanceof ResultNotFoundError) throw err
        // The caller checks ranges against the manifest's bytes; S3's 416 is not the bucket's fault.
        if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) throw new RangeError(`bytes ${range?.start}-${range?.end} are outside the result of job ${jobId}`, { cause: err })
        throw unavailable(err, `reading ${key}`)
      }
    },

    async delete (jobId) {
      checkJobId(jobId)
      await deleteKeys(jobId)
    },

    async sweep (ttlMs, now = Date.now()) {
      const manifests = new Map<string, Date>()
      const data = new Map<string, Date>()
      let token: string | undefined
      do {
        let page
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token }))
        } catch (err) {
          throw unavailable(err, 'listing results')
        }
        for (const object of page.Contents ?? []) {
          const name = (object.Key ?? '').slice(listPrefix.length)
          // Only this store's own names, directly under the prefix.
          if (name.includes('/') || object.LastModified === undefined) continue
          if (name.endsWith(MANIFEST_SUFFIX)) manifests.set(name.slice(0, -MANIFEST_SUFFIX.length), object.LastModified)
          else if (name.endsWith(DATA_SUFFIX)) data.set(name.slice(0, -DATA_SUFFIX.length), object.LastModified)
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined
      } while (token !== undefined)
      let removed = 0
      // A result's age counts from its manifest's created_at (as in the local store), or from the
      // manifest's upload when that is unreadable.
      for (const [jobId, uploaded] of manifests) {
        if (!JOB_ID.test(jobId)) continue
        const manifest = await getManifest(jobId).catch((err: unknown) => {
          if (err instanceof SyntaxError) return undefined
          throw err
        })
        const created = Date.parse(manifest?.created_at ?? '')
        if (now - (Number.isNaN(created) ? uploaded.getTime() : created) > ttlMs) {
          await deleteKeys(jobId)
          removed++
        }
      }
      // Data without a manifest is a commit that died between its two writes: removed by age, not counted.
      for (const [jobId, uploaded] of data) {
        if (manifests.has(jobId) || !JOB_ID.test(jobId) || now - uploaded.getTime() <= ttlMs) continue
        await deleteKeys(jobId)
      }
      return removed
    },

    close () {
      client.destroy()
    }
  }
}

function isNotFound (err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404)
}

interface WriterSettings {
  readonly client: S3Client
  readonly bucket: string
  readonly dataKey: string
  readonly manifestKey: string
  readonly partSize: number
  readonly queueSize: number
  readonly unavailable: (err: unknown, action: string) => ResultStoreUnavailableError
}

/** One export's upload: chunks stream into a multipart upload; commit completes it, then writes the manifest. */
class S3ResultWriter implements ResultWriter {
  readonly #settings: WriterSettings
  readonly #body: PassThrough
  /** Settles when the upload completes (after the body ends) or fails; never rejects unhandled. */
  readonly #uploaded: Promise<Error | undefined>
  #state: 'open' | 'committing' | 'committed' | 'aborted' = 'open'

  constructor (settings: WriterSettings) {
    this.#settings = settings
    this.#body = new PassThrough({ highWaterMark: MiB })
    // A failed or aborted body's error reaches us through the upload's promise; never as an unhandled 'error' event.
    this.#body.on('error', () => {})
    const upload = new Upload({
      client: settings.client,
      params: { Bucket: settings.bucket, Key: settings.dataKey, Body: this.#body, ContentType: 'application/jsonl; charset=utf-8' },
      partSize: settings.partSize,
      queueSize: settings.queueSize,
      leavePartsOnError: false
    })
    this.#uploaded = upload.done().then(() => undefined, (err: unknown) => err instanceof Error ? err : new Error(String(err)))
  }

  async write (chunk: Buffer): Promise<void> {
    if (this.#state !== 'open') throw new Error(`write after ${this.#state}`)
    if (this.#body.write(chunk)) return
    // Wait for the upload to take more, or for it to fail (then it never will).
    const failed = await Promise.race([once(this.#body, 'drain').then(() => undefined), this.#uploaded])
    if (failed !== undefined) throw this.#failure(failed, 'uploading')
  }

  async commit (manifest: ResultManifest): Promise<void> {
    if (this.#state !== 'open') throw new Error(`commit after ${this.#state}`)
    this.#state = 'committing'
    this.#body.end()
    const failed = await this.#uploaded
    if (failed !== undefined) {
      this.#state = 'aborted'
      throw this.#failure(failed, 'completing the upload')
    }
    const { client, bucket, manifestKey } = this.#settings
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(manifest), ContentType: 'application/json' }))
    } catch (err) {
      this.#state = 'aborted'
      // The data stays: it may have replaced an earlier commit of this job (the same bytes: a job's
      // id is a digest of its export), whose manifest still stands. Alone, sweep removes it.
      throw this.#settings.unavailable(err, `writing ${manifestKey}`)
    }
    this.#state = 'committed'
  }

  async abort (): Promise<void> {
    // After commit began, the upload has its body: it completes or lib-storage aborts it itself.
    if (this.#state !== 'open') return
    this.#state = 'aborted'
    // Failing the body makes lib-storage stop, send AbortMultipartUpload and only then settle.
    // (Upload.abort() settles at once and leaves the upload open while the body waits for data.)
    this.#body.destroy(new Error('export aborted'))
    await this.#uploaded
  }

  #failure (err: Error, action: string): Error {
    return err instanceof ResultStoreUnavailableError ? err : this.#settings.unavailable(err, `${action} ${this.#settings.dataKey}`)
  }
}
