import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface WriteOptions {
  readonly signal?: AbortSignal
  /** Called with each chunk just before it is written (progress counting). */
  readonly onChunk?: (chunk: Uint8Array) => void
  /** A last check once every byte is on disk; throwing leaves `path` untouched. */
  readonly beforeRename?: () => void
}

/** The temp file `path` is written to first: hidden, in the same folder (so the rename is atomic). */
export function tempPathFor (path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Write the chunks to a temp file next to `path`, flush it to disk, then rename it over `path`.
 * On any failure (a data error in the streaming pass, a full disk, an abort) the temp file is
 * removed: `path` is either the whole export or untouched, never a partial file. Used by the CLI
 * and the typed client.
 */
export async function writeFileAtomically (path: string, chunks: AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<number> {
  const temp = tempPathFor(path)
  const handle = await open(temp, 'wx')
  let closed = false
  let renamed = false
  let bytes = 0
  try {
    for await (const chunk of chunks) {
      options.signal?.throwIfAborted()
      options.onChunk?.(chunk)
      for (let offset = 0; offset < chunk.length;) {
        const { bytesWritten } = await handle.write(chunk, offset)
        offset += bytesWritten
      }
      bytes += chunk.length
    }
    options.signal?.throwIfAborted()
    await handle.sync()
    closed = true
    await handle.close()
    options.beforeRename?.()
    await rename(temp, path)
    renamed = true
    return bytes
  } finally {
    if (!closed) await handle.close().catch(() => {})
    if (!renamed) await rm(temp, { force: true })
  }
}
