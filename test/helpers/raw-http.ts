import { connect } from 'node:net'

/** A response read off a raw socket, up to the connection's end. */
export interface RawResponse {
  /** The status line, e.g. `HTTP/1.1 200 OK`. */
  readonly statusLine: string
  readonly status: number
  /** Header names lower-cased; a repeated header keeps its last value. */
  readonly headers: Record<string, string>
  /** Every byte after the blank line, exactly as it came off the wire (no de-chunking). */
  readonly body: Buffer
  /** How the server ended the connection: a clean FIN (`end`) or an error such as ECONNRESET. */
  readonly ending: 'end' | string
}

/**
 * Send bytes on a fresh TCP connection and read until the server closes it. For what undici will
 * not send or parse: HTTP/1.0, malformed request lines, broken framing, close-delimited bodies.
 */
export async function rawRequest (origin: string, request: string | Buffer, options: { readonly halfClose?: boolean } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(origin)
  const received: Buffer[] = []
  const ending = await new Promise<string>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      // halfClose: send FIN after the bytes, as a client that gives up mid-body does.
      if (options.halfClose === true) socket.end(request)
      else socket.write(request)
    })
    let settled = false
    const settle = (how: string): void => { if (!settled) { settled = true; resolve(how) } }
    socket.on('data', (chunk: Buffer) => { received.push(chunk) })
    socket.on('end', () => { settle('end'); socket.end() })
    socket.on('error', (err: NodeJS.ErrnoException) => { settle(err.code ?? err.message) })
    socket.on('close', () => { settle('end') })
  })
  return { ...parseResponse(Buffer.concat(received)), ending }
}

function parseResponse (bytes: Buffer): Omit<RawResponse, 'ending'> {
  const split = bytes.indexOf('\r\n\r\n')
  if (split < 0) return { statusLine: bytes.toString('latin1'), status: 0, headers: {}, body: Buffer.alloc(0) }
  const [statusLine = '', ...lines] = bytes.subarray(0, split).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(split + 4) }
}

/** A request head plus a JSON body with its Content-Length, in the given HTTP version. */
export function jsonRequest (method: string, path: string, body: unknown, version = '1.1', extraHeaders: Record<string, string> = {}): string {
  const text = JSON.stringify(body)
  const headers = { host: 'localhost', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...extraHeaders }
  return `${method} ${path} HTTP/${version}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${text}`
}
