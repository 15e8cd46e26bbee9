import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'

/*
 * A loopback TCP proxy that closes a connection once no byte has passed in either direction for
 * `idleMs`, as an AWS ALB (60 s idle timeout) or Cloudflare (100 s) does. Hand-written on node:net
 * because it is 40 lines and no library does exactly "close after N ms with no bytes in either
 * direction" (socket.setTimeout on each side alone would count one direction only).
 * Used by the bench's `proxy` scenario and by test/jobs/idle-proxy.test.ts.
 */

export interface IdleProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number
  /** Connections the proxy cut for idleness so far. */
  readonly cut: () => number
  /** Stop listening and destroy every open connection. */
  close: () => Promise<void>
}

export async function start (options: { target: number, idleMs: number, host?: string }): Promise<IdleProxy> {
  const open = new Set<Socket>()
  let cut = 0
  const server = createServer((client) => {
    const upstream = connect(options.target, options.host ?? '127.0.0.1')
    open.add(client).add(upstream)
    let timer: NodeJS.Timeout | undefined
    const forget = (): void => {
      if (!client.destroyed || !upstream.destroyed) return
      clearTimeout(timer)
      open.delete(client)
      open.delete(upstream)
    }
    const destroy = (): void => {
      client.destroy()
      upstream.destroy()
      forget()
    }
    const touch = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => { cut++; destroy() }, options.idleMs)
    }
    touch()
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (chunk: Buffer) => {
        touch()
        if (!to.write(chunk)) from.pause()
      })
      to.on('drain', () => { from.resume() })
      // A side that ends or closes ends the other once its written bytes are flushed; an error cuts both.
      from.on('end', () => { to.end() })
      from.on('close', () => { to.end(); forget() })
      from.on('error', destroy)
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('idle proxy has no TCP address')
  return {
    port: address.port,
    cut: () => cut,
    async close () {
      for (const socket of open) socket.destroy()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
