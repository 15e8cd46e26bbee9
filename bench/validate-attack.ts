/**
 * `npx tsx bench/validate-attack.ts [repeat|runs|tools] [prose|word]`: time the 4 MB validation
 * bodies of issue 12 against the real app on a real port, and how long /health went unanswered
 * meanwhile (polled from a worker thread: a poller on the server's own event loop would freeze with it).
 *
 * - repeat: a 4 MiB system message, one run listed 256 times in the split;
 * - runs: a 4 MiB system message, 256 runs;
 * - tools: a 4 MiB tools[0].function.description, 256 runs;
 * - word: the 4 MiB text is one word ('x' repeated) instead of prose.
 */
import { Worker } from 'node:worker_threads'
import { Client } from 'undici'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { inlineBody, kilnRun, kilnSplit } from '../test/helpers/kiln-data.js'

const MiB = 1024 * 1024
const PROSE = 'The quick brown fox jumps over the lazy dog, and then it rests. '
const variant = process.argv[2] ?? 'repeat'
const text = process.argv[3] === 'word' ? 'x'.repeat(4 * MiB) : PROSE.repeat(Math.ceil(4 * MiB / PROSE.length)).slice(0, 4 * MiB)
const runs = Array.from({ length: 256 }, (_, i) => kilnRun(String(i + 1)))
const body = variant === 'repeat'
  ? inlineBody([kilnRun('1')], { system_message: text, dataset_split: kilnSplit('100000000001', { train: Array(256).fill('1') }) })
  : variant === 'runs'
    ? inlineBody(runs, { system_message: text })
    : inlineBody(runs, { tools: [{ type: 'function', function: { name: 'f', description: text } }] })
const payload = JSON.stringify(body)

// The environment's configuration (VALIDATE_MAX_CHARS=…), without the overload limits.
const app = await buildApp({ ...loadConfig(process.env), maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0 })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no TCP address')
const origin = `http://127.0.0.1:${address.port}`
const client = new Client(origin)
const send = async (json: string): Promise<{ status: number, text: string }> => {
  const response = await client.request({ method: 'POST', path: '/datasets/100000000001/validate', headers: { 'content-type': 'application/json' }, body: json })
  return { status: response.statusCode, text: await response.body.text() }
}
// Load the tokenizer first: its one-time load is not what is measured.
await send(JSON.stringify(inlineBody([kilnRun('1')])))

const poller = new Worker(`
  const { parentPort, workerData } = require('node:worker_threads')
  let slowest = 0, answers = 0, stop = false
  parentPort.on('message', () => { stop = true })
  ;(async () => {
    while (!stop) {
      const started = performance.now()
      await (await fetch(workerData + '/health')).text()
      slowest = Math.max(slowest, performance.now() - started)
      answers++
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    parentPort.postMessage({ slowest, answers })
  })()
`, { eval: true, workerData: origin })
const health = new Promise<{ slowest: number, answers: number }>((resolve) => poller.once('message', resolve))

const started = performance.now()
const answer = await send(payload)
const ms = performance.now() - started
poller.postMessage('stop')
const { slowest, answers } = await health
await poller.terminate()
console.log(`${variant}/${process.argv[3] ?? 'prose'}: ${(payload.length / MiB).toFixed(1)} MiB body -> ${answer.status} in ${(ms / 1000).toFixed(1)} s; ` +
  `/health answered ${answers} times, slowest ${(slowest / 1000).toFixed(2)} s; ${answer.text.slice(0, 160)}`)
await client.close()
await app.close()
