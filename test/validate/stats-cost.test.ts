import { describe, expect, it } from 'vitest'
import { billedTokensPerEpoch, estimateCost, openaiDefaultEpochs, quantile, summarizeTokens, type ResolvedProfile } from '../../src/validate/index.js'

describe('summarizeTokens', () => {
  it('gives min, mean, p50, p95, max and the total, interpolating percentiles between ranks', () => {
    // p50: rank 0.5 x 4 = 2 -> 30; p95: rank 0.95 x 4 = 3.8 -> 40 + 0.8 x (100 - 40) = 88.
    expect(summarizeTokens([100, 10, 40, 20, 30])).toEqual({ examples: 5, total: 200, min: 10, mean: 40, p50: 30, p95: 88, max: 100 })
  })

  it('interpolates an even count\'s median and rounds to 2 decimals', () => {
    // mean 7 / 3 = 2.333...; p50 of [1, 2, 4]: 2; p95: rank 1.9 -> 2 + 0.9 x 2 = 3.8
    expect(summarizeTokens([4, 1, 2])).toMatchObject({ mean: 2.33, p50: 2, p95: 3.8 })
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
  })

  it('has no summary for no examples', () => {
    expect(summarizeTokens([])).toBeNull()
  })
})

describe('OpenAI\'s default epochs (the cookbook\'s rule)', () => {
  it('keeps 3 epochs between 100 and 25,000 example passes', () => {
    expect(openaiDefaultEpochs(34)).toBe(3)
    expect(openaiDefaultEpochs(8333)).toBe(3)
  })

  it('raises small datasets to 100 passes, at most 25 epochs', () => {
    expect(openaiDefaultEpochs(33)).toBe(3) // 99 passes: 100 // 33
    expect(openaiDefaultEpochs(6)).toBe(16) // 100 // 6
    expect(openaiDefaultEpochs(1)).toBe(25)
  })

  it('lowers large datasets to 25,000 passes, at least 1 epoch', () => {
    expect(openaiDefaultEpochs(8334)).toBe(2) // 25,002 passes: 25,000 // 8,334
    expect(openaiDefaultEpochs(30_000)).toBe(1)
  })
})

const profile = (overrides: Partial<Pick<ResolvedProfile, 'epochs' | 'maxTokensPerExample' | 'price'>>): Pick<ResolvedProfile, 'epochs' | 'maxTokensPerExample' | 'price'> => ({
  epochs: { source: 'request', value: 3 },
  maxTokensPerExample: 65536,
  price: { perMillionTokens: 3, currency: 'USD', source: 'test' },
  ...overrides
})

describe('the cost estimate', () => {
  it('bills each example up to the per-example limit', () => {
    expect(billedTokensPerEpoch([100, 70_000, 65_536], 65_536)).toBe(131_172)
    expect(billedTokensPerEpoch([100, 70_000], null)).toBe(70_100)
  })

  it('is billed tokens x epochs x price per million', () => {
    // (1,000 + 2,000 + 65,536) = 68,536 per epoch; x 3 = 205,608; x 3 USD / 1M = 0.616824
    expect(estimateCost([1000, 2000, 70_000], profile({}))).toEqual({
      billed_tokens_per_epoch: 68_536,
      epochs: 3,
      epochs_source: 'request',
      billed_tokens: 205_608,
      price_per_million_tokens: 3,
      currency: 'USD',
      price_source: 'test',
      estimated_cost: 0.616824
    })
  })

  it('uses OpenAI\'s default epochs for the number of examples', () => {
    // 6 examples of 51 tokens: 306 per epoch, 16 epochs, 4,896 tokens, x 3 USD / 1M = 0.014688
    const cost = estimateCost([51, 51, 51, 51, 51, 51], profile({ epochs: { source: 'openai_auto' } }))
    expect(cost).toMatchObject({ billed_tokens_per_epoch: 306, epochs: 16, epochs_source: 'openai_auto', billed_tokens: 4896, estimated_cost: 0.014688 })
  })

  it('rounds to a millionth of the currency', () => {
    // 333,333 x 3 = 999,999 tokens x 1.5 / 1M = 1.4999985 -> 1.499999
    const cost = estimateCost([333_333], profile({ maxTokensPerExample: null, price: { perMillionTokens: 1.5, currency: 'USD', source: 'test' } }))
    expect(cost.estimated_cost).toBe(1.499999)
  })

  it('has no amount without a price, but still the billed tokens', () => {
    const cost = estimateCost([10, 20], profile({ price: null, epochs: { source: 'profile_default', value: 2 } }))
    expect(cost).toMatchObject({ billed_tokens: 60, epochs_source: 'profile_default', price_per_million_tokens: null, currency: null, estimated_cost: null })
  })
})
