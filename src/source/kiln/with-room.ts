/*
 * The one buffer-growing rule of the byte-level code: the compact id lists (compact-run-ids.ts)
 * and the file readers of mounted projects (../mounted/read-to-end.ts, file-batch.ts).
 */

/** `bytes` if `room` more bytes fit after `used`; else a copy of its first `used` bytes in a buffer at least twice as large. */
export function withRoom (bytes: Buffer, used: number, room: number): Buffer {
  if (bytes.length - used >= room) return bytes
  const bigger = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, used + room))
  bytes.copy(bigger, 0, 0, used)
  return bigger
}
