import { readSync } from 'node:fs'
import { withRoom } from '../kiln/with-room.js'

/*
 * Read a whole file into a growing buffer: shared by the synchronous readers of mounted projects
 * (file-batch.ts, kiln-files.ts).
 */

/**
 * Read file `fd` to its end into `bytes` from offset `used`, growing the buffer as needed. A short
 * read of a regular file is its end, so a file that fits takes one read() (no second read that
 * would only return 0). Reads at most `max` + 1 bytes, so a file that grew past its limit after it
 * was checked costs no more memory than that: the caller sees more than `max` new bytes and refuses
 * it. Returns the buffer (maybe a new one) and the new end offset.
 */
export function readToEnd (fd: number, bytes: Buffer, used: number, max = Number.MAX_SAFE_INTEGER): { bytes: Buffer, used: number } {
  const stop = used + max + 1
  for (;;) {
    bytes = withRoom(bytes, used, Math.min(4096, stop - used))
    const room = Math.min(bytes.length - used, stop - used)
    const n = readSync(fd, bytes, used, room, null)
    used += n
    if (n < room || used === stop) return { bytes, used }
  }
}
