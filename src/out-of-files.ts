/**
 * True for an error saying the process (EMFILE) or the system (ENFILE) has no file handle left:
 * load that passes once connections or reads finish, never a bug or bad data.
 */
export function isOutOfFileHandles (err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
  return code === 'EMFILE' || code === 'ENFILE'
}

/** The error for a read that failed for want of a file handle (reported as a code, e.g. by a worker). */
export function outOfFileHandles (code: string): Error & { readonly code: string } {
  return Object.assign(new Error(`${code}: no file handle left to read a Kiln file`), { code })
}
