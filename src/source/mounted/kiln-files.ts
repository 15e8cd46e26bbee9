import { closeSync, constants, existsSync, fstatSync, openSync, readlinkSync, type Stats } from 'node:fs'
import { lstat, opendir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isOutOfFileHandles } from '../../out-of-files.js'
import { readToEnd } from './read-to-end.js'

/*
 * Low-level, path-safe reads of a mounted Kiln project. Every rule of "nothing outside the
 * mounted folder is ever read" lives here:
 * - folders are found by listing their parent (readdir), never by joining a request's id;
 * - symbolic links are never followed: listed entries that are links are skipped, and every file
 *   is opened with O_NOFOLLOW, then checked by what the kernel says it opened (openKilnFile);
 * - only regular files are read, and only up to a size limit: a named pipe or a huge (sparse)
 *   file is refused by name, never waited on or loaded;
 * - the only name taken from data (a run id from a split file) must be one plain path segment.
 * Running out of file handles (EMFILE, ENFILE) is never a problem of the file: those errors are
 * thrown as they are, for the HTTP layer to answer 503, never mistaken for a missing or bad file.
 */

/** Why a Kiln file could not be read. `detail`: the errno code, the kind of file, or its size. */
export type KilnFileReason = 'missing' | 'link' | 'not_regular' | 'too_large' | 'unreadable' | 'not_json'

export class KilnFileError extends Error {
  override readonly name = 'KilnFileError'

  constructor (readonly reason: KilnFileReason, message: string, readonly detail = '') {
    super(message)
  }
}

/** Default limits (MAX_KILN_FILE_BYTES, MAX_RUN_FILE_BYTES): far above real Kiln files, far below what would hurt. */
export const DEFAULT_MAX_KILN_FILE_BYTES = 256 * 1024 * 1024
export const DEFAULT_MAX_RUN_FILE_BYTES = 16 * 1024 * 1024
/** The highest limit allowed: V8's longest string, which a file's decoded text must fit in. */
export const MAX_FILE_BYTES_CEILING = 0x1fffffe8

/** Which limit a file is held to, for messages: run files are read 64 at a time, so theirs is lower. */
export interface FileLimit {
  readonly bytes: number
  readonly variable: 'MAX_KILN_FILE_BYTES' | 'MAX_RUN_FILE_BYTES'
  readonly what: string
}

export const kilnFileLimit = (bytes = DEFAULT_MAX_KILN_FILE_BYTES): FileLimit => ({ bytes, variable: 'MAX_KILN_FILE_BYTES', what: 'Kiln files' })
export const runFileLimit = (bytes = DEFAULT_MAX_RUN_FILE_BYTES): FileLimit => ({ bytes, variable: 'MAX_RUN_FILE_BYTES', what: 'run files' })

/** O_NONBLOCK: opening a named pipe returns at once instead of waiting for a writer (it is then refused). */
const SAFE_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

/** Whether the kernel names each open descriptor in /proc/self/fd (Linux), which openKilnFile checks. */
export const CHECKS_OPENED_PATH = existsSync('/proc/self/fd')

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

function codeOf (err: unknown): string {
  return String((err as { code?: unknown }).code ?? 'error')
}

/** What a link (or a path through one) is told, after the file's name. */
export const LINK = 'is a symbolic link or is reached through one (links are not followed)'

/** Why opening a Kiln file (with O_NOFOLLOW) failed, without the path. */
function openError (err: unknown): Error {
  // Load, not a bad file: passed on as it is (503 KEX_OUT_OF_FILE_HANDLES).
  if (isOutOfFileHandles(err)) return err as Error
  if (isNotFound(err)) return new KilnFileError('missing', 'is missing')
  if (codeOf(err) === 'ELOOP') return new KilnFileError('link', LINK)
  return unreadable(err)
}

function unreadable (err: unknown): Error {
  if (isOutOfFileHandles(err)) return err as Error
  const code = codeOf(err)
  return new KilnFileError('unreadable', `cannot be read (${code})`, code)
}

/** `600 MiB`, `23.5 KiB`, `512 bytes`. */
export function formatSize (bytes: number): string {
  const [unit, size] = bytes >= 1024 * 1024 ? ['MiB', 1024 * 1024] : bytes >= 1024 ? ['KiB', 1024] : ['bytes', 1]
  return `${Number((bytes / size).toFixed(1))} ${unit}`
}

function kindOf (stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)'
  if (stats.isDirectory()) return 'a folder'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  return 'a special file'
}

export function notRegular (kind: string): KilnFileError {
  return new KilnFileError('not_regular', `is ${kind}, not a regular file: Kiln files must be regular files; replace it with the file Kiln wrote, or remove it`, kind)
}

export function tooLarge (size: number, limit: FileLimit): KilnFileError {
  return new KilnFileError('too_large',
    `is ${formatSize(size)} (${size} bytes), over the limit of ${formatSize(limit.bytes)} for ${limit.what}: raise ${limit.variable} if the file is genuine`,
    String(size))
}

/**
 * Open a Kiln file for reading and check what was opened, on the descriptor itself, so nothing
 * can change between the check and the read:
 * - O_NOFOLLOW refuses a link as the last component, and O_NONBLOCK makes opening a named pipe
 *   return at once (a blocking open waits for a writer forever);
 * - O_NOFOLLOW does not look at the folders on the way (a run folder swapped for a link to
 *   another folder is followed by open()), so the kernel's name for the open file
 *   (/proc/self/fd/N) must be `path` itself. Callers build `path` from the real path of the
 *   mounted folder and plain names, so a link anywhere on the way shows as another name (as does
 *   a file moved or deleted since it was opened). One readlink per file: Node has no openat() to
 *   walk the folders by descriptor instead. Without /proc (not Linux) this check is skipped and
 *   the listing of links (linkNames) is all that guards the run folders;
 * - fstat: it must be a regular file within `limit`.
 * Returns the descriptor (the caller closes it) and the file's size.
 */
export function openKilnFile (path: string, limit: FileLimit): { fd: number, size: number } {
  let fd: number
  try {
    fd = openSync(path, SAFE_READ)
  } catch (err) {
    throw openError(err)
  }
  try {
    if (CHECKS_OPENED_PATH && readlinkSync(`/proc/self/fd/${fd}`) !== path) throw new KilnFileError('link', LINK)
    const stats = fstatSync(fd)
    if (!stats.isFile()) throw notRegular(kindOf(stats))
    if (stats.size > limit.bytes) throw tooLarge(stats.size, limit)
    return { fd, size: stats.size }
  } catch (err) {
    closeSync(fd)
    throw err instanceof KilnFileError ? err : unreadable(err)
  }
}

/**
 * A Kiln file's bytes (see openKilnFile), read synchronously: for a file parsed at once and then
 * dropped (a dataset split), so that its buffer is still young when it becomes garbage and is
 * freed at the next scavenge. An async read lives across several turns of the event loop; a 22 MB
 * split file then lingered until a full GC.
 */
export function readKilnFile (path: string, limit: FileLimit): Buffer {
  const { fd, size } = openKilnFile(path, limit)
  try {
    // Sized from fstat (plus room to see the end): one read() for a file that does not change.
    const { bytes, used } = readToEnd(fd, Buffer.allocUnsafeSlow(size + 4096), 0, limit.bytes)
    if (used > limit.bytes) throw tooLarge(used, limit)
    return bytes.subarray(0, used)
  } catch (err) {
    throw err instanceof KilnFileError ? err : unreadable(err)
  } finally {
    closeSync(fd)
  }
}

/** Read and parse a `.kiln` JSON file. */
export function readKilnJson (path: string, limit: FileLimit): unknown {
  const text = readKilnFile(path, limit).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new KilnFileError('not_json', `is not valid JSON (${(err as Error).message})`)
  }
}

/** True when `dir` holds an entry `file` of any kind (whether it can be read is found when it is). */
export async function hasKilnFile (dir: string, file: string): Promise<boolean> {
  try {
    await lstat(join(dir, file))
    return true
  } catch {
    return false
  }
}

/**
 * The names of the symbolic links in `dir`, listed once per export, only where openKilnFile cannot
 * check what it opened (no /proc): an lstat per run cost more than the open, read and close
 * together on the measured VM. Like any check-then-open it leaves a window: a run folder swapped
 * for a link during the export is followed there. Streamed, so memory holds only the links.
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
