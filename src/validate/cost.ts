import { type EpochsChoice, type ResolvedProfile } from './profiles.js'

/** An estimated training cost, with every number it was computed from. */
export interface CostEstimate {
  /** Tokens billed per epoch: every example's tokens, capped at the per-example limit. */
  readonly billed_tokens_per_epoch: number
  readonly epochs: number
  readonly epochs_source: EpochsChoice['source']
  /** billed_tokens_per_epoch x epochs. */
  readonly billed_tokens: number
  readonly price_per_million_tokens: number | null
  readonly currency: string | null
  readonly price_source: string | null
  /** billed_tokens x price / 1,000,000, rounded to a millionth; null without a price. */
  readonly estimated_cost: number | null
}

/*
 * OpenAI's default epochs, as its data-preparation cookbook computes them: 3, raised so that the
 * job sees at least 100 examples (at most 25 epochs), lowered so that it sees at most 25,000 (at
 * least 1 epoch).
 * @see https://cookbook.openai.com/examples/chat_finetuning_data_prep
 */
const TARGET_EPOCHS = 3
const MIN_TARGET_EXAMPLES = 100
const MAX_TARGET_EXAMPLES = 25_000
const MIN_DEFAULT_EPOCHS = 1
const MAX_DEFAULT_EPOCHS = 25

/** OpenAI's default number of epochs for a training file of `examples` examples. */
export function openaiDefaultEpochs (examples: number): number {
  if (examples <= 0) return TARGET_EPOCHS
  if (examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES) return Math.min(MAX_DEFAULT_EPOCHS, Math.floor(MIN_TARGET_EXAMPLES / examples))
  if (examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES) return Math.max(MIN_DEFAULT_EPOCHS, Math.floor(MAX_TARGET_EXAMPLES / examples))
  return TARGET_EPOCHS
}

/** Tokens billed for one pass: each example's tokens, capped at the per-example limit (the cookbook's n_billing_tokens_in_dataset). */
export function billedTokensPerEpoch (counts: readonly number[], maxTokensPerExample: number | null): number {
  let billed = 0
  for (const count of counts) billed += maxTokensPerExample === null ? count : Math.min(count, maxTokensPerExample)
  return billed
}

/** Estimated training cost of one training file: billed tokens x epochs x price. */
export function estimateCost (counts: readonly number[], profile: Pick<ResolvedProfile, 'epochs' | 'maxTokensPerExample' | 'price'>): CostEstimate {
  const perEpoch = billedTokensPerEpoch(counts, profile.maxTokensPerExample)
  const epochs = profile.epochs.source === 'openai_auto' ? openaiDefaultEpochs(counts.length) : profile.epochs.value
  const billed = perEpoch * epochs
  const { price } = profile
  return {
    billed_tokens_per_epoch: perEpoch,
    epochs,
    epochs_source: profile.epochs.source,
    billed_tokens: billed,
    price_per_million_tokens: price?.perMillionTokens ?? null,
    currency: price?.currency ?? null,
    price_source: price?.source ?? null,
    // Cost in millionths is billed x price (price is per million tokens): rounding there, then one division.
    estimated_cost: price === null ? null : Math.round(billed * price.perMillionTokens) / 1_000_000
  }
}
