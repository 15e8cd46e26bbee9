import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FILE_UNREADABLE, type FileBatch, type FileBatchRequest } from '../../src/source/mounted/file-batch.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { RunFileReader } from '../../src/source/mounted/run-file-reader.js'
import { makeKilnProject } from '../helpers/kiln-project.js'
import { postJson, startServer } from '../helpers/server.js'
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
  /** Open `count` more connections. */
  add (count: number): void
  /** Close one connection the server still holds open; false when none is left. */
  release (): boolean
  /** Close every connection the flood still holds. */
  end (): void
}

/** Open `count` connections that each send an export's head and 20 bytes of its 100,000-byte body. */
function flood (origin: string, count: number): Flood {
  const { hostname, port } = new URL(origin)
  const open = new Set<Socket>()
  let dropped = 0
  const add = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const socket = connect(Number(port), hostname)
      let answered = false
      socket.on('data', () => { answered = true })
      socket.on('error', () => {})
      socket.on('close', () => {
        open.delete(socket)
        if (!answered) dropped++
      })
      socket.write(`POST ${EXPORT_PATH} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"split_name": "tra`)
      open.add(socket)
    }
  }
  const release = (): boolean => {
    const [socket] = open
    if (socket === undefined) return false
    open.delete(socket)
    socket.destroy()
    return true
  }
  const end = (): void => { for (const socket of open) socket.destroy() }
  add(count)
  onTestFinished(end)
  return { dropped: () => dropped, add, release, end }
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
  it('answers 503 KEX_OUT_OF_FILE_HANDLES, never 500 or 404, when reading project files runs out of handles', async () => {
    // MAX_CONNECTIONS above the limit: connections can take every handle, as with a cap set too high.
    const { child, origin, logs } = await startServerProcess({ MAX_CONNECTIONS: '1000' }, { openFiles: OPEN_FILES })
    const attack = flood(origin, 300)
    expect(await eventually(() => attack.dropped() > 0)).toBe(true)

    // Free one handle at a time: with none, the server drops the connection; with one, the
    // connection takes it and reading the project fails; with two, the request succeeds.
    const answersUntilServed = async (path: string, body?: string): Promise<Array<{ status: number, headers: Record<string, unknown>, text: string }>> => {
      const answers = []
      while (attack.release()) {
        await sleep(100)
        const answer = await tryRequest(origin, path, body)
        if (answer === undefined) continue
        answers.push(answer)
        if (answer.status === 200) break
      }
      return answers
    }
    const expectLoadAnswers = (answers: Array<{ status: number, headers: Record<string, unknown>, text: string }>): void => {
      expect(answers.map((a) => a.status)).toContain(503)
      expect(answers.at(-1)?.status).toBe(200)
      for (const answer of answers.filter((a) => a.status !== 200)) {
        expect(answer.status).toBe(503)
        expect(answer.headers['retry-after']).toBe('5')
        expect(JSON.parse(answer.text)).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          code: 'KEX_OUT_OF_FILE_HANDLES',
          message: 'The service has no file handle left (too many open connections): retry after Retry-After seconds; ' +
            'operators: raise the open-file limit (ulimit -n) or lower MAX_CONNECTIONS'
        })
      }
    }
    expectLoadAnswers(await answersUntilServed('/datasets'))
    // Take every handle again, then the same for a mounted export.
    const before = attack.dropped()
    attack.add(20)
    expect(await eventually(() => attack.dropped() > before)).toBe(true)
    expectLoadAnswers(await answersUntilServed(EXPORT_PATH, EXPORT_BODY))

    expect(child.exitCode).toBe(null)
    // Load is logged as a warning without a stack.
    const refusals = logs.filter((line) => line.includes('KEX_OUT_OF_FILE_HANDLES'))
    expect(refusals.length).toBeGreaterThan(0)
    for (const line of refusals) expect(JSON.parse(line)).toMatchObject({ level: 40, msg: 'request refused: retry later' })
    expect(logs.filter((line) => line.includes('"stack"'))).toEqual([])
  })

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

  it('answers 503 for a run file that could not be opened for want of a handle, not 422 for a bad run', async () => {
    const project = await makeKilnProject()
    await project.writeRun('1')
    await project.writeSplit('900000000001', { train: ['1'] })
    // The reader sees EMFILE on every run file, as the worker thread reports it.
    class ExhaustedReader extends RunFileReader {
      override readHere (request: FileBatchRequest): FileBatch {
        const n = request.names.length
        return { bytes: new Uint8Array(0), starts: new Uint32Array(n + 1), status: new Uint8Array(n).fill(FILE_UNREADABLE), codes: Array(n).fill('EMFILE') }
      }

      override async read (request: FileBatchRequest): Promise<FileBatch> { return this.readHere(request) }
    }
    const { client } = await startServer({}, { catalog: new KilnProjects(project.root, { reader: new ExhaustedReader({ threads: false }) }) })
    const answer = await postJson(client, '/datasets/900000000001/export', JSON.parse(EXPORT_BODY))
    expect(answer.status).toBe(503)
    expect(answer.headers['retry-after']).toBe('5')
    expect(answer.json()).toMatchObject({ code: 'KEX_OUT_OF_FILE_HANDLES' })
  })
})
