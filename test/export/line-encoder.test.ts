import { describe, expect, it } from 'vitest'
import { LineEncoder } from '../../src/export/line-encoder.js'

function encodeAll (chunkBytes: number, lines: string[]): Buffer[] {
  const encoder = new LineEncoder(chunkBytes)
  const chunks = lines.flatMap((line) => encoder.add(line))
  const last = encoder.flush()
  return last === undefined ? chunks : [...chunks, last]
}

describe('LineEncoder', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `{"n": ${i}, "text": "${'é😀a'.repeat(i % 17)}"}\n`)

  it('encodes the lines to the same UTF-8 bytes, in order, in chunks of about the chunk size', () => {
    const chunks = encodeAll(1024, lines)
    expect(Buffer.concat(chunks).equals(Buffer.from(lines.join(''), 'utf8'))).toBe(true)
    expect(chunks.length).toBeGreaterThan(10)
    for (const chunk of chunks.slice(0, -1)) {
      // Only whole lines, and no chunk below what a worst-case line could leave unused.
      expect(chunk.at(-1)).toBe(10)
      expect(chunk.length).toBeGreaterThan(1024 - 3 * 100)
      expect(chunk.length).toBeLessThanOrEqual(1024)
    }
  })

  it('hands out fresh buffers: a chunk already given is never overwritten', () => {
    const encoder = new LineEncoder(64)
    const first = encoder.add('a'.repeat(63) + '\n')
    const copy = Buffer.from(first[0] ?? [])
    encoder.add('b'.repeat(63) + '\n')
    encoder.flush()
    expect(first[0]?.equals(copy)).toBe(true)
  })

  it('gives a line longer than a chunk a chunk of its own, after the lines before it', () => {
    const long = `${'ü'.repeat(5000)}\n`
    const chunks = encodeAll(256, ['a\n', long, 'b\n'])
    expect(chunks.map((c) => c.toString('utf8'))).toEqual(['a\n', long, 'b\n'])
  })

  it('flushes nothing when nothing was added', () => {
    expect(new LineEncoder(16).flush()).toBeUndefined()
    expect(encodeAll(1, ['x\n', 'y\n']).map(String)).toEqual(['x\n', 'y\n'])
  })
})
