import { relative } from 'node:path'
import { type ProjectProblem, type ProjectProblemReason } from './types.js'

/*
 * Problems of a source's Kiln files, named relative to the source's root (the mounted folder): any
 * source of Kiln projects throws these, and the HTTP layer and the CLI answer them.
 */

/** A project's file that stops a request; the HTTP layer answers it with its code (409, 422). */
export class ProjectProblemError extends Error {
  override readonly name = 'ProjectProblemError'

  constructor (readonly problem: ProjectProblem) {
    super(problem.message)
  }
}

/** A file's name in messages: relative to the mounted folder, quoted as JSON so odd characters show. */
export function quotedName (root: string, path: string): string {
  return JSON.stringify(relative(root, path))
}

function problem (reason: ProjectProblemReason, root: string, path: string, predicate: string): ProjectProblemError {
  return new ProjectProblemError({ reason, files: [relative(root, path)], message: `${quotedName(root, path)} ${predicate}` })
}

/** Why a Kiln file could not be read, without its name (a mounted folder's KilnFileError). */
export interface UnreadableReason {
  /** `not_regular` and `too_large` keep their own problem; any other reason is `invalid`. */
  readonly reason: string
  readonly message: string
}

/** The problem of a Kiln file that could not be read. */
export function unreadableFile (root: string, path: string, err: UnreadableReason): ProjectProblemError {
  const reason = err.reason === 'not_regular' || err.reason === 'too_large' ? err.reason : 'invalid'
  return problem(reason, root, path, err.message)
}

/** The problem of a Kiln file that was read but is not what it should be. */
export function invalidFile (root: string, path: string, what: string, detail: string): ProjectProblemError {
  return problem('invalid', root, path, `is not a valid Kiln ${what} (${detail}): fix or remove it`)
}

/**
 * Dataset split `id` held by several split files. Kiln ids are unique, so one is a copy (of a
 * project or a split folder); exporting either would be a guess.
 */
export function ambiguousDataset (root: string, id: string, files: readonly string[]): ProjectProblemError {
  const names = files.map((file) => relative(root, file)).sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  return new ProjectProblemError({
    reason: 'ambiguous',
    files: names,
    message: `Dataset split ${id} is in ${names.length} places under the mounted folder: ${names.map((name) => JSON.stringify(name)).join(', ')}. ` +
      'Kiln ids are unique, so one is a copy: mount only one of these projects, or remove the copied dataset split folder'
  })
}
