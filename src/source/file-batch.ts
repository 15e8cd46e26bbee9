import { closeSync, constants, openSync } from 'node:fs'
import { join } from 'node:path'
import { isPlainSegment } from './kiln-files.js'
import { readToEnd } from './read-to-end.js'

/*
 * Read `<dir>/<name>/<file>` for a batch of names into one buffer: the I/O half of reading run
 * files, with no parsing, so it can run on a worker thread (run-file-worker.ts) and hand its
 * buffer over without a copy. Path rules as in kiln-files.ts: a name must be one plain segment,
 * must not be a known link, and the file is opened with O_NOFOLLOW.
 */

/** What happened to one file of a batch. */
export const FILE_OK = 0
export const FILE_MISSING = 1
export const FILE_LINK = 2
export const FILE_UNREADABLE = 3

export interface FileBatchRequest {
  readonly dir: string
  readonly names: readonly string[]
  readonly file: string
  /** Entries of `dir` that are symbolic links (see linkNames). */
  readonly links: readonly string[]
}

/** The files of a batch back to back in `bytes`; file i is `bytes[starts[i], starts[i + 1])`. */
export interface FileBatch {
  readonly bytes: Uint8Array
  /** names.length + 1 offsets. */
  readonly starts: Uint32Array
  /** FILE_OK, FILE_MISSING, FILE_LINK or FILE_UNREADABLE per file. */
  readonly status: Uint8Array
  /** The error code of each unreadable file (e.g. EACCES), else ''. */
  readonly codes: readonly string[]
}

const NOFOLLOW_READ = constants.O_RDONLY | constants.O_NOFOLLOW

function codeOf (err: unknown): string {
  return String((err as { code?: unknown }).code ?? 'error')
}

/**
 * Read a batch into `spare` (a buffer given back by the consumer, see RunFileReader.recycle) or a
 * new one: run files are a few KB, so start at 4 KiB a file and double when needed.
 */
export function readFileBatch (request: FileBatchRequest, spare?: ArrayBuffer): FileBatch {
  const { dir, names, file } = request
  const links = new Set(request.links)
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
    try {
      fd = openSync(join(dir, name, file), NOFOLLOW_READ)
    } catch (err) {
      const code = codeOf(err)
      status[i] = code === 'ENOENT' || code === 'ENOTDIR' ? FILE_MISSING : code === 'ELOOP' ? FILE_LINK : FILE_UNREADABLE
      codes[i] = code
      continue
    }
    try {
      ({ bytes, used } = readToEnd(fd, bytes, used))
      status[i] = FILE_OK
    } catch (err) {
      used = starts[i] ?? used
      status[i] = FILE_UNREADABLE
      codes[i] = codeOf(err)
    } finally {
      closeSync(fd)
    }
  }
  starts[names.length] = used
  return { bytes: bytes.subarray(0, used), starts, status, codes }
}
