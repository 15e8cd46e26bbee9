import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startServerProcess } from '../helpers/server-process.js'

/*
 * A connection flood against the real executable with a low open-file limit (`ulimit -n 256` in
 * the child only): a few hundred connections that each send a request head and part of a body,
 * then stall.
 */

const OPEN_FILES = 256
const EXPORT_PATH = '/datasets/150621256807/export'
const EXPORT_BODY = JSON.stringify({ split_name: 'train', format: 'openai_chat_jsonl', system_message: 'S' })

interface Flood {
  /** Connections the server closed without an answer (over its cap, or out of file handles). */
  dropped (): number
  /** Close every connection the flood still holds. */
  end (): void
}

/** Open `count` connections that each send an export's head and 20 bytes of its 100,000-byte body. */
function flood (origin: string, count: number): Flood {
  const { hostname, port } = new URL(origin)
  const sockets: Socket[] = []
  let dropped = 0
  for (let i = 0; i < count; i++) {
    const socket = connect(Number(port), hostname)
    let answered = false
    socket.on('data', () => { answered = true })
    socket.on('error', () => {})
    socket.on('close', () => { if (!answered) dropped++ })
    socket.write(`POST ${EXPORT_PATH} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"split_name": "tra`)
    sockets.push(socket)
  }
  const end = (): void => { for (const socket of sockets) socket.destroy() }
  onTestFinished(end)
  return { dropped: () => dropped, end }
}

/** One request on a fresh connection: its status and body, or undefined when the connection failed. */
async function tryRequest (origin: string, path: string, body?: string): Promise<{ status: number, headers: Record<string, unknown>, text: string } | undefined> {
  const client = new Client(origin)
  try {
    const response = await client.request({
      method: body === undefined ? 'GET' : 'POST',
      path,
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } })
    })
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() }
  } catch {
    return undefined
  } finally {
    await client.destroy()
  }
}

/** Wait for `condition`, checking every 100 ms, at most `tries` times. */
async function eventually (condition: () => boolean | Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return true
    await sleep(100)
  }
  return false
}

describe('a connection flood at a low open-file limit', () => {
  it('leaves the service running: once the flood ends, health and exports answer again', async () => {
    const { child, origin, logs } = await startServerProcess({}, { openFiles: OPEN_FILES })
    const attack = flood(origin, 300)
    // The flood reached the limit: the server turns connections away.
    expect(await eventually(() => attack.dropped() > 0)).toBe(true)
    // Stay at the limit across a few samples of the overload watch (one a second).
    await sleep(2500)
    expect(child.exitCode).toBe(null)
    attack.end()

    expect(await eventually(async () => (await tryRequest(origin, '/health'))?.status === 200)).toBe(true)
    const listing = await tryRequest(origin, '/datasets')
    expect(listing?.status).toBe(200)
    const exported = await tryRequest(origin, EXPORT_PATH, EXPORT_BODY)
    expect(exported?.status).toBe(200)
    expect(exported?.text.split('\n')).toHaveLength(7)
    expect(child.exitCode).toBe(null)
    expect(logs.filter((line) => line.includes('shutting down'))).toEqual([])
  })
})
