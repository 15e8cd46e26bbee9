import { FormatError } from '../../src/format/index.js'

/** Run `fn` and return the FormatError it throws; anything else (or nothing) fails the test. */
export function formatErrorOf (fn: () => unknown): FormatError {
  try {
    fn()
  } catch (err) {
    if (err instanceof FormatError) return err
    throw err
  }
  throw new Error('expected a FormatError, nothing was thrown')
}
