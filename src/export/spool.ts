import { randomBytes } from 'node:crypto'
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { type ChunkPool } from './chunk-pool.js'

/*
 * Contract: a private spool file per export, so each line is formatted once.
 *
 * The check pass must read every run before the first byte is sent (all data errors first), and
 * memory must stay bounded, so without a spool every run is read, parsed and formatted a second
 * time while streaming. With one, the check pass writes each encoded chunk to a file that only
 * this export can see, and the stream reads it back.
 *
 * - Private: the file is created exclusively (mode 0600) under a random name and unlinked at once;
 *   the export keeps the only handle, no other export or process can open it, and the kernel frees
 *   its blocks when the handle closes, on success, error, abort, or a crash.
 * - Bounded: one SpoolBudget per process caps the bytes all spools hold at once (SPOOL_MAX_BYTES).
 *   When a write would pass the cap, or the disk is short (ENOSPC, EDQUOT, any write error), the
 *   spool stops growing and keeps what it holds: those lines are streamed from the file, the rest
 *   by the second pass, as without a spool. A chunk always holds whole lines (LineEncoder), so the
 *   file always ends on a line.
 * - Memory: with the export's ChunkPool, each chunk goes back to the pool once written, and the
 *   stream reads the file back into the pool's buffers (chunk-pool.ts), so a long export makes no
 *   garbage buffers.
 * - Start-up: removeStaleSpools() deletes files a process left in the moment between creating and
 *   unlinking one.
 */

const openPrivate = async (path: string): Promise<FileHandle> => await open(path, 'wx+', 0o600)

/** Spool files are named `<prefix><random>`; start-up removes leftovers by this prefix. */
export const SPOOL_PREFIX = 'kiln-export-spool-'

/** Bytes read back per chunk. */
const READ_CHUNK_BYTES = 64 * 1024

/** The spool bytes every export of the process may hold at once (SPOOL_MAX_BYTES). */
export class SpoolBudget {
  private held = 0

  constructor (readonly maxBytes: number) {}

  /** Take `bytes` if they fit under the cap. */
  take (bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false
    this.held += bytes
    return true
  }

  give (bytes: number): void {
    this.held = Math.max(0, this.held - bytes)
  }

  /** Bytes held by all spools now. */
  get heldBytes (): number {
    return this.held
  }
}

const budgets = new Map<number, SpoolBudget>()

/**
 * The spool options of this process for SPOOL_DIR and SPOOL_MAX_BYTES (undefined when 0): one
 * budget per process, shared by the export route and the export jobs, so the cap holds for both.
 */
export function processSpool (dir: string | undefined, maxBytes: number | undefined, onStop?: (reason: string) => void): SpoolOptions | undefined {
  if (dir === undefined || maxBytes === undefined || maxBytes <= 0) return undefined
  let budget = budgets.get(maxBytes)
  if (budget === undefined) {
    budget = new SpoolBudget(maxBytes)
    budgets.set(maxBytes, budget)
  }
  return { dir, budget, ...(onStop === undefined ? {} : { onStop }) }
}

/** Where spools go and how much they may hold. */
export interface SpoolOptions {
  readonly dir: string
  readonly budget: SpoolBudget
  /** Told once per export why its spool stopped growing (cap or disk), for the logs. */
  readonly onStop?: (reason: string) => void
  /** Opens the new file exclusively (tests inject a failing disk); default fs.promises.open(path, 'wx+', 0o600). */
  readonly openFile?: (path: string) => Promise<FileHandle>
}

/** One export's spool: chunks of whole lines written in order, read back once. */
export class Spool {
  /** Lines and bytes the file holds (whole chunks only). */
  lines = 0
  bytes = 0
  /** False once the spool stopped growing: later lines come from the second pass. */
  growing = true
  /** Bytes handed to add() and not written yet: the caller waits (settle) past a few MiB, so memory stays bounded. */
  queuedBytes = 0
  private pending: Promise<void> = Promise.resolve()

  private constructor (private readonly handle: FileHandle, private readonly options: SpoolOptions, private readonly pool?: ChunkPool) {}

  /**
   * A new private spool, or undefined when none can be made (the folder is missing or read-only):
   * the export then runs in two passes.
   */
  static async create (options: SpoolOptions, pool?: ChunkPool): Promise<Spool | undefined> {
    if (options.budget.maxBytes <= 0) return undefined
    const path = join(options.dir, SPOOL_PREFIX + randomBytes(12).toString('hex'))
    let handle: FileHandle
    try {
      handle = await (options.openFile ?? openPrivate)(path)
    } catch (err) {
      options.onStop?.(`no spool file in SPOOL_DIR ${options.dir}: ${(err as Error).message}`)
      return undefined
    }
    try {
      await unlink(path)
    } catch (err) {
      // Another process's start-up removed it already: it is just as private.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        await handle.close()
        return undefined
      }
    }
    return new Spool(handle, options, pool)
  }

  /**
   * Add encoded chunks holding `lines` whole lines, in order. Returns false (and adds nothing) when
   * the budget has no room: the caller keeps those lines for the second pass. Writes run in the
   * background, in order; a failed write stops the spool at the last chunk written whole.
   */
  add (chunks: readonly Buffer[], lines: number): boolean {
    if (!this.growing) return false
    const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
    if (!this.options.budget.take(size)) {
      this.stop(`SPOOL_MAX_BYTES (${this.options.budget.maxBytes} bytes for all exports) is reached`)
      return false
    }
    const at = this.bytes
    this.bytes += size
    this.lines += lines
    const linesBefore = this.lines - lines
    this.queuedBytes += size
    this.pending = this.pending.then(async () => {
      if (!this.growing && this.bytes <= at) return
      try {
        let offset = at
        for (const chunk of chunks) {
          let done = 0
          while (done < chunk.length) {
            const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, offset + done)
            done += bytesWritten
          }
          // Written: the chunk's only holder was this write.
          this.pool?.give(chunk)
          offset += chunk.length
        }
      } catch (err) {
        // Disk full or failing: keep the chunks written before this batch.
        if (this.bytes > at) {
          this.options.budget.give(this.bytes - at)
          this.bytes = at
          this.lines = linesBefore
        }
        this.stop(`writing the spool failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
    }).finally(() => { this.queuedBytes -= size })
    return true
  }

  /** Wait for every write; then `lines` and `bytes` are final. */
  async settle (): Promise<void> {
    await this.pending
  }

  /** The spooled bytes, in chunks, from the start. */
  async * read (signal?: AbortSignal): AsyncIterable<Buffer> {
    await this.settle()
    // The pool's buffers when they are big enough to read in (not the tests' tiny chunks).
    const pool = this.pool !== undefined && this.pool.chunkBytes >= READ_CHUNK_BYTES ? this.pool : undefined
    let position = 0
    while (position < this.bytes) {
      signal?.throwIfAborted()
      const size = Math.min(pool?.chunkBytes ?? READ_CHUNK_BYTES, this.bytes - position)
      const buffer = pool === undefined ? Buffer.allocUnsafe(size) : pool.take().subarray(0, size)
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position)
      if (bytesRead === 0) throw new Error('The export spool file ended early')
      position += bytesRead
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead)
    }
  }

  /** Close the file (its blocks are freed) and give the bytes back to the budget. Safe to call twice. */
  async close (): Promise<void> {
    this.growing = false
    await this.pending.catch(() => {})
    this.options.budget.give(this.bytes)
    this.bytes = 0
    await this.handle.close().catch(() => {})
  }

  private stop (reason: string): void {
    if (!this.growing) return
    this.growing = false
    this.options.onStop?.(reason)
  }
}

/**
 * Remove spool files a process left in SPOOL_DIR (only in the moment between creating and
 * unlinking one). Returns how many were removed; a missing folder removes none.
 */
export async function removeStaleSpools (dir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!name.startsWith(SPOOL_PREFIX)) continue
    try {
      await unlink(join(dir, name))
      removed++
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed
}
