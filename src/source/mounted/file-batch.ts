import { closeSync } from 'node:fs'
import { join } from 'node:path'
import { KilnFileError, isPlainSegment, openKilnFile, runFileLimit, tooLarge, type KilnFileReason } from './kiln-files.js'
import { withRoom } from '../kiln/with-room.js'
import { readToEnd } from './read-to-end.js'

/*
 * Read `<dir>/<name>/<file>` for a batch of names into one buffer: the I/O half of reading run
 * files, with no parsing, so it can run on a worker thread (run-file-worker.ts) and hand its
 * buffer over without a copy. Path rules as in kiln-files.ts: a name must be one plain segment,
 * must not be a known link, and the file is opened and checked by openKilnFile (no link on the
 * way, a regular file, within the run-file limit); `dir` must be a real path (no links in it).
 */

/** What happened to one file of a batch. */
export const FILE_OK = 0
export const FILE_MISSING = 1
export const FILE_LINK = 2
export const FILE_UNREADABLE = 3
export const FILE_NOT_REGULAR = 4
export const FILE_TOO_LARGE = 5

export interface FileBatchRequest {
  readonly dir: string
  readonly names: readonly string[]
  readonly file: string
  /** Entries of `dir` that are symbolic links (see linkNames). */
  readonly links: readonly string[]
  /** Largest file read, in bytes (MAX_RUN_FILE_BYTES); a larger one is FILE_TOO_LARGE. */
  readonly maxBytes?: number
}

/** The files of a batch back to back in `bytes`; file i is `bytes[starts[i], starts[i + 1])`. */
export interface FileBatch {
  readonly bytes: Uint8Array
  /** names.length + 1 offsets. */
  readonly starts: Uint32Array
  /** FILE_OK, FILE_MISSING, FILE_LINK, FILE_UNREADABLE, FILE_NOT_REGULAR or FILE_TOO_LARGE per file. */
  readonly status: Uint8Array
  /** Why a file was not read (KilnFileError's detail: e.g. EACCES, the kind of file, its size), else ''. */
  readonly codes: readonly string[]
}

const STATUS: Record<KilnFileReason, number> = {
  missing: FILE_MISSING,
  link: FILE_LINK,
  unreadable: FILE_UNREADABLE,
  not_regular: FILE_NOT_REGULAR,
  too_large: FILE_TOO_LARGE,
  not_json: FILE_UNREADABLE
}

/**
 * Read a batch into `spare` (a buffer given back by the consumer, see RunFileReader.recycle) or a
 * new one: run files are a few KB, so start at 4 KiB a file and double when needed.
 */
export function readFileBatch (request: FileBatchRequest, spare?: ArrayBuffer): FileBatch {
  const { dir, names, file } = request
  const links = new Set(request.links)
  const limit = runFileLimit(request.maxBytes)
  const wanted = Math.max(64 * 1024, names.length * 4096)
  let bytes: Buffer = spare !== undefined && spare.byteLength >= wanted ? Buffer.from(spare) : Buffer.allocUnsafeSlow(wanted)
  let used = 0
  const starts = new Uint32Array(names.length + 1)
  const status = new Uint8Array(names.length)
  const codes: string[] = []
  for (let i = 0; i < names.length; i++) {
    starts[i] = used
    codes.push('')
    const name = names[i] ?? ''
    if (!isPlainSegment(name)) {
      status[i] = FILE_MISSING
      continue
    }
    if (links.has(name)) {
      status[i] = FILE_LINK
      continue
    }
    let fd: number
    let size: number
    try {
      ({ fd, size } = openKilnFile(join(dir, name, file), limit))
    } catch (err) {
      if (!(err instanceof KilnFileError)) throw err
      status[i] = STATUS[err.reason]
      codes[i] = err.detail
      continue
    }
    const start = used
    try {
      // Room for the whole file (fstat's size) and one byte to see its end: one read().
      bytes = withRoom(bytes, used, size + 1)
      ;({ bytes, used } = readToEnd(fd, bytes, used, limit.bytes))
      // It grew past the limit after it was checked.
      if (used - start > limit.bytes) throw tooLarge(used - start, limit)
      status[i] = FILE_OK
    } catch (err) {
      used = start
      status[i] = err instanceof KilnFileError ? STATUS[err.reason] : FILE_UNREADABLE
      codes[i] = err instanceof KilnFileError ? err.detail : String((err as { code?: unknown }).code ?? 'error')
    } finally {
      closeSync(fd)
    }
  }
  starts[names.length] = used
  return { bytes: bytes.subarray(0, used), starts, status, codes }
}
