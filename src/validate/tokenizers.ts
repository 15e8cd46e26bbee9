/**
 * Token counting with OpenAI's BPE encodings (gpt-tokenizer: pure JavaScript, the ranks ship in
 * the package, nothing is downloaded). An encoding is loaded on first use: o200k_base takes about
 * a second and 20 MB, which a service that never validates should not pay at start-up.
 */

/** The encodings a profile may name: o200k_base (gpt-4o, gpt-4.1 families), cl100k_base (gpt-3.5-turbo, gpt-4). */
export const TOKENIZERS = ['o200k_base', 'cl100k_base'] as const

/** An encoding name. */
export type TokenizerName = typeof TOKENIZERS[number]

/** Tokens in a text. */
export type TextTokenCounter = (text: string) => number

/**
 * Special-token text (`<|endoftext|>`) in training data is ordinary text to count, as tiktoken's
 * `encode(text, disallowed_special=())` counts it, never an error.
 */
const AS_TEXT = { disallowedSpecial: new Set<string>() }

const loading = new Map<TokenizerName, Promise<TextTokenCounter>>()

async function importEncoding (name: TokenizerName): Promise<{ countTokens: (text: string, options: typeof AS_TEXT) => number }> {
  switch (name) {
    case 'o200k_base': return await import('gpt-tokenizer/encoding/o200k_base')
    case 'cl100k_base': return await import('gpt-tokenizer/encoding/cl100k_base')
  }
}

/** The token counter of an encoding (loaded once, then shared). */
export async function loadTokenCounter (name: TokenizerName): Promise<TextTokenCounter> {
  let counter = loading.get(name)
  if (counter === undefined) {
    counter = importEncoding(name).then((encoding) => (text: string) => encoding.countTokens(text, AS_TEXT))
    // A failed load is not cached, so a later request tries again.
    counter.catch(() => loading.delete(name))
    loading.set(name, counter)
  }
  return counter
}
