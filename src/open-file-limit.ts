import { readFileSync } from 'node:fs'

/** MAX_CONNECTIONS when the open-file limit cannot be read (not Linux), and the most it picks. */
const MAX_AUTO_CONNECTIONS = 1024

/** The process's soft open-file limit (`ulimit -n`) from /proc/self/limits; undefined when unknown or unlimited. */
export function openFileLimit (): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/**
 * MAX_CONNECTIONS=0: three quarters of the open-file limit, so that connections alone never use
 * every file handle (the rest reads project files, runs the worker thread and writes logs); at
 * most 1024.
 */
export function automaticMaxConnections (limit: number | undefined = openFileLimit()): number {
  if (limit === undefined) return MAX_AUTO_CONNECTIONS
  return Math.max(1, Math.min(MAX_AUTO_CONNECTIONS, Math.floor(limit * 0.75)))
}
