import { type Client } from 'undici'

/**
 * Block the event loop this test shares with the server across a whole pressure sample. The
 * pressure watch takes the MEAN delay of its 10 ms ticks over each 1 s sample, so one long block
 * between many normal ticks can average out below the limit: block three times with only a turn
 * of the loop in between.
 */
export async function lagTheEventLoop (): Promise<void> {
  for (let block = 0; block < 3; block++) {
    const until = Date.now() + 700
    while (Date.now() < until) { /* busy */ }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/**
 * Lag the loop, then send the requests (in one turn, so they see the same sample) until `ready`
 * says the service saw the pressure. On a loaded machine a sample can still straddle the blocks,
 * so this tries a bounded number of times; it throws if the pressure was never seen.
 */
export async function underLag<T> (send: () => Promise<T>, seen: (answer: T) => boolean, attempts = 6): Promise<T> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await lagTheEventLoop()
    const answer = await send()
    if (seen(answer)) return answer
  }
  throw new Error(`the service never reported pressure in ${attempts} lagged samples`)
}

/** GET a path, read its body as text. */
export async function getText (client: Client, path: string): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> {
  const response = await client.request({ method: 'GET', path })
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() }
}
