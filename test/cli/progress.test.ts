import { EventEmitter } from 'node:events'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type CliIo, type OutputStream } from '../../src/cli/io.js'
import { createProgress, writeToStream } from '../../src/cli/output.js'
import { writeFileAtomically } from '../../src/jsonl/write-file-atomically.js'
import { runCli } from '../../src/cli/run.js'

/** A stream that records what is written; `isTTY` as asked. */
class FakeStream extends EventEmitter implements OutputStream {
  text = ''
  constructor (readonly isTTY: boolean) { super() }
  write (chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
}

function fakeIo (stderrIsTty: boolean, signal?: AbortSignal): CliIo & { stdout: FakeStream, stderr: FakeStream } {
  return { stdout: new FakeStream(false), stderr: new FakeStream(stderrIsTty), env: {}, signal }
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-cli-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

const EXPORT = ['export', '--project', 'examples/kiln-project', '--dataset', '150621256807', '--split', 'train', '--format', 'openai_chat_jsonl', '--system-message', 'S']

describe('the progress counter', () => {
  it('is drawn on stderr with \\r when writing a file and stderr is a terminal', async () => {
    const dir = await tempDir()
    const io = fakeIo(true)
    expect(await runCli([...EXPORT, '-o', join(dir, 'train.jsonl')], io)).toBe(0)
    expect(io.stderr.text).toMatch(/^\rkiln-export: train\.jsonl: \d+ \/ 6 lines \(\d+%\)/)
    expect(io.stderr.text.endsWith('\rkiln-export: train.jsonl: 6 / 6 lines (100%)\n')).toBe(true)
    expect((await readFile(join(dir, 'train.jsonl'), 'utf8')).split('\n')).toHaveLength(7)
  })

  it('is not drawn when stderr is not a terminal, nor when writing to stdout', async () => {
    const dir = await tempDir()
    const toFile = fakeIo(false)
    expect(await runCli([...EXPORT, '-o', join(dir, 'train.jsonl')], toFile)).toBe(0)
    expect(toFile.stderr.text).toBe('')
    const toStdout = fakeIo(true)
    expect(await runCli(EXPORT, toStdout)).toBe(0)
    expect(toStdout.stderr.text).toBe('')
    expect(toStdout.stdout.text.split('\n')).toHaveLength(7)
  })

  it('redraws at most once per interval, and always at the end', () => {
    const stream = new FakeStream(true)
    let now = 0
    const progress = createProgress(stream, 'x.jsonl', 4, 100, () => now)
    progress.onChunk(Buffer.from('a\nb\n'))
    now = 50
    progress.onChunk(Buffer.from('c\n'))
    now = 150
    progress.onChunk(Buffer.from('d\n'))
    progress.finish()
    expect(stream.text).toBe(
      '\rkiln-export: x.jsonl: 2 / 4 lines (50%)' +
      '\rkiln-export: x.jsonl: 4 / 4 lines (100%)' +
      '\rkiln-export: x.jsonl: 4 / 4 lines (100%)\n')
  })
})

describe('writing the output', () => {
  it('removes the temp file and keeps no partial file when the chunks fail midway', async () => {
    const dir = await tempDir()
    async function * failing (): AsyncIterable<Buffer> {
      yield Buffer.from('line 1\n')
      throw new Error('the data changed')
    }
    await expect(writeFileAtomically(join(dir, 'out.jsonl'), failing())).rejects.toThrow('the data changed')
    expect(await readdir(dir)).toEqual([])
  })

  it('removes the temp file when aborted (SIGINT)', async () => {
    const dir = await tempDir()
    const controller = new AbortController()
    async function * slow (): AsyncIterable<Buffer> {
      yield Buffer.from('line 1\n')
      controller.abort()
      yield Buffer.from('line 2\n')
    }
    await expect(writeFileAtomically(join(dir, 'out.jsonl'), slow(), { signal: controller.signal })).rejects.toThrow()
    expect(await readdir(dir)).toEqual([])
  })

  it('stops with the stream\'s error when stdout\'s reader goes away (EPIPE)', async () => {
    const stream = new FakeStream(false)
    stream.write = () => {
      queueMicrotask(() => stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })))
      return false
    }
    async function * lines (): AsyncIterable<Buffer> {
      for (let i = 0; i < 3; i++) yield Buffer.from(`line ${i}\n`)
    }
    await expect(writeToStream(stream, lines())).rejects.toMatchObject({ code: 'EPIPE' })
  })
})
