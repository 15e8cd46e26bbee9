/*
 * The names an export download is verified by, shared by the server (http/jsonl-reply.ts) and the
 * typed client: the announced line count before the body, the count and SHA-256 of the bytes
 * actually sent after it (HTTP/1.1 trailers). No imports: the client bundles this file.
 */

/** Header with the number of lines the body will hold. */
export const LINE_COUNT_HEADER = 'x-export-line-count'
/** Trailer with the number of lines actually sent. */
export const LINES_TRAILER = 'x-export-lines'
/** Trailer with the hex SHA-256 of the body actually sent. */
export const SHA256_TRAILER = 'x-export-sha256'
/** Preference formats: header with the number of runs that make no pair (known before the body). */
export const SKIPPED_RUN_COUNT_HEADER = 'x-export-skipped-run-count'
/** Preference formats: trailer repeating the skipped-run count, next to the lines actually sent. */
export const SKIPPED_RUNS_TRAILER = 'x-export-skipped-runs'
