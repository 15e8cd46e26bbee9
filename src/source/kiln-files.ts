import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import { lstat, open, opendir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isOutOfFileHandles } from '../out-of-files.js'
import { readToEnd } from './read-to-end.js'

/*
 * Low-level, path-safe reads of a mounted Kiln project. Every rule of "nothing outside the
 * mounted folder is ever read" lives here:
 * - folders are found by listing their parent (readdir), never by joining a request's id;
 * - symbolic links are never followed: listed entries that are links are skipped, run folders
 *   that are links are known from one listing of `runs/` per export source, and files are opened
 *   with O_NOFOLLOW;
 * - the only name taken from data (a run id from a split file) must be one plain path segment.
 * Running out of file handles (EMFILE, ENFILE) is never a problem of the file: those errors are
 * thrown as they are, for the HTTP layer to answer 503, never mistaken for a missing or bad file.
 */

/** Why a Kiln file could not be read. */
export class KilnFileError extends Error {
  override readonly name = 'KilnFileError'

  constructor (readonly reason: 'missing' | 'link' | 'unreadable' | 'not_json', message: string) {
    super(message)
  }
}

const NOFOLLOW_READ = constants.O_RDONLY | constants.O_NOFOLLOW

/** True when `name` is a single, ordinary path segment (no separators, NUL, `.` or `..`). */
export function isPlainSegment (name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name)
}

/** The names of the real (non-link) subfolders of `dir`; an absent folder has none. */
export async function listFolders (dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries.filter((e) => e.isDirectory()).map((e) => e.name)
  } catch (err) {
    if (isNotFound(err)) return []
    throw err
  }
}

function isNotFound (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** Why opening a Kiln file (with O_NOFOLLOW) failed, without the path; load errors as they are. */
function openError (err: unknown): Error {
  if (isOutOfFileHandles(err)) return err as Error
  const code = (err as { code?: unknown }).code
  if (isNotFound(err)) return new KilnFileError('missing', 'file not found')
  if (code === 'ELOOP') return new KilnFileError('link', 'is a symbolic link (links are not followed)')
  return new KilnFileError('unreadable', `cannot be read (${String(code ?? 'error')})`)
}

function readError (err: unknown): Error {
  if (isOutOfFileHandles(err)) return err as Error
  return new KilnFileError('unreadable', `cannot be read (${String((err as { code?: unknown }).code ?? 'error')})`)
}

/** Read a file's bytes without following a link at its last component. */
export async function readBytesNoFollow (path: string): Promise<Buffer> {
  let handle
  try {
    handle = await open(path, NOFOLLOW_READ)
  } catch (err) {
    throw openError(err)
  }
  try {
    return await handle.readFile()
  } catch (err) {
    throw readError(err)
  } finally {
    await handle.close()
  }
}

/**
 * readBytesNoFollow, synchronously: for a file parsed at once and then dropped (a dataset split),
 * so that its buffer is still young when it becomes garbage and is freed at the next scavenge. An
 * async read lives across several turns of the event loop; a 22 MB split file then lingered until
 * a full GC.
 */
export function readBytesNoFollowSync (path: string): Buffer {
  let fd: number
  try {
    fd = openSync(path, NOFOLLOW_READ)
  } catch (err) {
    throw openError(err)
  }
  try {
    // Sized from fstat (plus room to see the end): one read() for a file that does not change.
    const { bytes, used } = readToEnd(fd, Buffer.allocUnsafeSlow(fstatSync(fd).size + 4096), 0)
    return bytes.subarray(0, used)
  } catch (err) {
    throw readError(err)
  } finally {
    closeSync(fd)
  }
}

/** Read a file's text (UTF-8) without following a link at its last component. */
export async function readTextNoFollow (path: string): Promise<string> {
  return (await readBytesNoFollow(path)).toString('utf8')
}

/** Read and parse a `.kiln` JSON file (no link followed). */
export async function readKilnJson (path: string): Promise<unknown> {
  const text = await readTextNoFollow(path)
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new KilnFileError('not_json', `is not valid JSON (${(err as Error).message})`)
  }
}

/** True when `dir/name` holds a regular file `file` (links not followed). */
export async function hasKilnFile (dir: string, file: string): Promise<boolean> {
  try {
    return (await lstat(join(dir, file))).isFile()
  } catch {
    return false
  }
}

/**
 * The names of the symbolic links in `dir`, listed once per export so that no run needs its own
 * lstat: on the measured VM an lstat per run cost more than the open, read and close together.
 * Streamed, so memory holds only the links (normally none), whatever the folder's size.
 * Like any check-then-open (the per-run lstat before it too), this does not stop someone who can
 * write to the mounted folder from swapping a run folder for a link during an export; closing that
 * needs openat(), which Node lacks, or a /proc/self/fd readlink per file (measured: +0.2 s a pass).
 */
export async function linkNames (dir: string): Promise<ReadonlySet<string>> {
  const names = new Set<string>()
  try {
    for await (const entry of await opendir(dir, { bufferSize: 1024 })) {
      if (entry.isSymbolicLink()) names.add(entry.name)
    }
  } catch (err) {
    if (isNotFound(err)) return names
    throw err
  }
  return names
}
