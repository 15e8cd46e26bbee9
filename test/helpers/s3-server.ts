import type { IncomingMessage } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'

/**
 * An S3-compatible server in this process (s3rver: pure JavaScript from npm, objects in a temp
 * folder), on a free port of 127.0.0.1, with the given buckets. No Docker, no network.
 */
export interface TestS3Server {
  readonly endpoint: string
  /** s3rver accepts these (and no others). */
  readonly credentials: { readonly accessKeyId: string, readonly secretAccessKey: string }
  /** Every request the server received, as `METHOD /path?query`, in order. */
  readonly requests: readonly string[]
  close (): Promise<void>
}

export async function startS3Server (buckets: readonly string[]): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-export-s3rver-'))
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) })
  const { port } = await server.run()
  const requests: string[] = []
  server.httpServer?.on('request', (request: IncomingMessage) => { requests.push(`${request.method ?? ''} ${request.url ?? ''}`) })
  return {
    requests,
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async close () {
      if (server.httpServer?.listening !== true) return
      // Kept-alive client sockets would hold close() open.
      server.httpServer?.closeAllConnections()
      await server.close()
      await rm(directory, { recursive: true, force: true })
    }
  }
}
