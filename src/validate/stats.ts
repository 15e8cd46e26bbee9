/** Summary of the token counts of a split's examples. */
export interface TokenSummary {
  readonly examples: number
  readonly total: number
  readonly min: number
  readonly mean: number
  readonly p50: number
  readonly p95: number
  readonly max: number
}

/** Rounded to 2 decimals, so a report prints `41.67`, not `41.666666666666664`. */
const round2 = (value: number): number => Math.round(value * 100) / 100

/**
 * The q-quantile of sorted values, interpolated linearly between the two nearest ranks (numpy's
 * default, which OpenAI's data-preparation cookbook uses): rank = q * (n - 1).
 */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) throw new RangeError('quantile of no values')
  const rank = q * (n - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  const lowValue = sorted[low] ?? 0
  return lowValue + ((sorted[high] ?? lowValue) - lowValue) * (rank - low)
}

/** min, mean, p50, p95, max and the total of token counts; null for no examples. */
export function summarizeTokens (counts: readonly number[]): TokenSummary | null {
  if (counts.length === 0) return null
  const sorted = Float64Array.from(counts).sort()
  let total = 0
  for (const count of counts) total += count
  return {
    examples: counts.length,
    total,
    min: sorted[0] ?? 0,
    mean: round2(total / counts.length),
    p50: round2(quantile(sorted, 0.5)),
    p95: round2(quantile(sorted, 0.95)),
    max: sorted[sorted.length - 1] ?? 0
  }
}
