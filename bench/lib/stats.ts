/** Small statistics and formatting helpers for the benchmark tables. */

export const MB = 1_000_000
export const MIB = 1024 * 1024

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

export function min (values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values)
}

export function max (values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values)
}

/** A number with `digits` decimals, or an em dash when unknown. */
export function fixed (value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits)
}

/** A count with thousands separators. */
export function count (value: number): string {
  return value.toLocaleString('en-US')
}

/** Seconds: 3 significant-ish digits. */
export function seconds (ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const s = ms / 1000
  return s < 1 ? s.toFixed(3) : s < 10 ? s.toFixed(2) : s.toFixed(1)
}

/** Median seconds with the spread of the runs: `1.23 (1.20–1.31)`. */
export function secondsSpread (ms: readonly number[]): string {
  if (ms.length <= 1) return seconds(ms[0] ?? Number.NaN)
  return `${seconds(median(ms))} (${seconds(min(ms))}–${seconds(max(ms))})`
}

/** A markdown table. */
export function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>, align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => (align?.[i] ?? 'r') === 'l' ? ':---' : '---:')
  return [header, sep, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')
}
