import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('npm start on a port already in use', () => {
  it('prints one line naming PORT and exits 2, without a stack trace', async () => {
    const busy = createServer()
    busy.listen(0, '127.0.0.1')
    await once(busy, 'listening')
    onTestFinished(() => { busy.close() })
    const address = busy.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.stdout.resume()
    const [code] = await once(child, 'exit') as [number | null]
    expect(code).toBe(2)
    expect(stderr).toBe(`kiln-export: PORT ${port} is already in use on 127.0.0.1: stop the other server, or set PORT to a free port (PORT=0 picks one)\n`)
  }, 60_000)
})
