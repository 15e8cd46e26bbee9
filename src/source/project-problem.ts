import { relative } from 'node:path'
import { type KilnFileError } from './kiln-files.js'
import { type ProjectProblem, type ProjectProblemReason } from './types.js'

/** A mounted project's file that stops a request; the HTTP layer answers it with its code (409, 422). */
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

/** The problem of a Kiln file that could not be read (KilnFileError says why, without the name). */
export function unreadableFile (root: string, path: string, err: KilnFileError): ProjectProblemError {
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
