export interface ResultManifest { readonly job_id: string; readonly file_name: string; readonly sha256: string; readonly bytes: number; readonly lines: number; readonly format: string; readonly data_strategy: string; readonly dataset_id: string; readonly source_digest: string; readonly service_version: string; readonly created_at: string }
export interface ResultWriter { write (chunk: Buffer): Promise<void>; /** makes file + manifest visible under the final key, atomically */ commit (manifest: ResultManifest): Promise<void>; abort (): Promise<void> }
export interface StoredResult { readonly manifest: ResultManifest; readonly location: string }
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
