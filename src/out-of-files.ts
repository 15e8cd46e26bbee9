/**
 * True for an error saying the process (EMFILE) or the system (ENFILE) has no file handle left:
 * load that passes once connections or reads finish, never a bug or bad data.
 */
export function isOutOfFileHandles (err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
  return code === 'EMFILE' || code === 'ENFILE'
}
