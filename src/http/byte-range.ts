/*
 * `Range: bytes=...` of a download (RFC 9110 section 14): one range is served as 206; several
 * ranges, or a header that is not a bytes range, are ignored (the whole file, 200), as the RFC
 * allows; a range wholly past the end is unsatisfiable (416).
 */

export type RangeAnswer =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial', readonly start: number, readonly end: number }
  | { readonly kind: 'unsatisfiable' }

/** What to send for `header` over a file of `size` bytes. */
export function byteRange (header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return { kind: 'whole' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'whole' }
  if (first === '') {
    // The last N bytes.
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return { kind: 'whole' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end }
}

/** Whether `If-None-Match` (or `If-Range`) names this ETag (weak comparison, `*` matches). */
export function etagMatches (header: string | readonly string[] | undefined, etag: string): boolean {
  if (header === undefined) return false
  return [header].flat().join(',').split(',').map((tag) => tag.trim().replace(/^W\//, '')).some((tag) => tag === '*' || tag === etag)
}
