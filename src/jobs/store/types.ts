/*
 * The result store contract: where a finished export job's JSONL and its manifest live. The local
 * folder (./local-store.ts, EXPORTS_DIR) and the S3-compatible bucket (./s3-store.ts,
 * EXPORTS_S3_URL) implement it; openResultStore() (./open-store.ts) picks one from the config.
 * A result is visible (get, read) only once commit() has made the file and its manifest final:
 * a reader never sees half a file, and a job redone after a crash writes the same bytes again.
 */

/** What is known of a stored result, written beside its file. */
export interface ResultManifest {
  readonly job_id: string
  /** Kiln's file name (Content-Disposition of the download). */
  readonly file_name: string
  /** Hex SHA-256 of the file (the download's ETag). */
  readonly sha256: string
  readonly bytes: number
  readonly lines: number
  /** The format name as requested (an alias keeps its name). */
  readonly format: string
  readonly data_strategy: string
  readonly dataset_id: string
  /** The digest of the source content the job was created over (see src/jobs/job-id.ts). */
  readonly source_digest: string
  /** The kiln-export version that wrote it. */
  readonly service_version: string
  /** ISO 8601; retention (EXPORTS_TTL) counts from here. */
  readonly created_at: string
}

/** One result being written. */
export interface ResultWriter {
  write (chunk: Buffer): Promise<void>
  /**
   * True when a resolved write() no longer reads its chunk (the bytes are in the file), so the
   * export may reuse the buffer (export/chunk-pool.ts); a writer that queues chunks leaves it unset.
   */
  readonly releasesChunks?: boolean
  /** makes file + manifest visible under the final key, atomically */
  commit (manifest: ResultManifest): Promise<void>
  /** Drops what was written; the final key is left as it was. */
  abort (): Promise<void>
}

/** A committed result. */
export interface StoredResult {
  readonly manifest: ResultManifest
  /** Where the file is: `file:///...` (local) or `s3://bucket/key` (S3). */
  readonly location: string
}

export interface ResultStore {
  readonly kind: 'local' | 's3'
  /** expectedBytes: a hint for multipart part size */
  create (jobId: string, expectedBytes?: number): Promise<ResultWriter>
  get (jobId: string): Promise<StoredResult | undefined>
  /** the file's bytes from start to end (inclusive), as a stream */
  read (jobId: string, range?: { start: number, end: number }): Promise<NodeJS.ReadableStream>
  delete (jobId: string): Promise<void>
  /** removes results older than ttlMs; returns how many */
  sweep (ttlMs: number, now?: number): Promise<number>
}
