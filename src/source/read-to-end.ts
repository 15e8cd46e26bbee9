import { readSync } from 'node:fs'

/*
 * Buffer helpers shared by the synchronous readers of mounted projects (file-batch.ts,
 * kiln-files.ts) and the compact id lists.
 */

/** `bytes` if `room` more bytes fit after `used`; else a copy of its first `used` bytes in a buffer at least twice as large. */
export function withRoom (bytes: Buffer, used: number, room: number): Buffer {
  if (bytes.length - used >= room) return bytes
  const bigger = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, used + room))
  bytes.copy(bigger, 0, 0, used)
  return bigger
}

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
