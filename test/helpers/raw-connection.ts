import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { onTestFinished } from 'vitest'

/** A raw TCP connection to a test server: for requests undici would not send (partial heads, stalled bodies). */
export interface RawConnection {
  readonly socket: Socket
  /** Everything the server sent, once it closed the connection. */
  readonly received: Promise<string>
}

/** Connect to `origin` and write `text` (left unfinished on purpose by the caller); destroyed when the test ends. */
export async function rawConnection (origin: string, text: string): Promise<RawConnection> {
  const { hostname, port } = new URL(origin)
  const socket = connect(Number(port), hostname)
  onTestFinished(() => { socket.destroy() })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  // A connection the server turns away may end in a reset: that is an answer too (an empty one).
  const received = new Promise<string>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))))
  socket.write(text)
  await Promise.race([once(socket, 'connect').catch(() => {}), received])
  return { socket, received }
}

/** The status code and JSON body of a raw HTTP/1.1 answer (not chunked). */
export function parseAnswer (text: string): { status: number, headers: string, body: unknown } {
  const end = text.indexOf('\r\n\r\n')
  const head = text.slice(0, end)
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(text.slice(end + 4)) as unknown }
}
