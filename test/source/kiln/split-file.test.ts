import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../../src/config.js'
import { CompactRunIds } from '../../../src/source/kiln/compact-run-ids.js'
import { KilnProjects } from '../../../src/source/mounted/kiln-projects.js'
import { parseSplitFile } from '../../../src/source/kiln/split-file.js'

const parseSplitText = (text: string): unknown => parseSplitFile(Buffer.from(text, 'utf8'))

/** The parsed value with compact lists turned back into arrays (what JSON.parse gives). */
function plain (value: unknown): unknown {
  if (value instanceof CompactRunIds) return [...value]
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

function compactLists (value: unknown): boolean {
  const lists = (value as { split_contents?: Record<string, unknown> }).split_contents ?? {}
  return Object.values(lists).every((ids) => ids instanceof CompactRunIds)
}

/** parseSplitText agrees with JSON.parse: same value (keys in the same order), or the same error. */
function expectLikeJsonParse (text: string): unknown {
  let expected: unknown
  try {
    expected = JSON.parse(text)
  } catch (err) {
    expect(() => parseSplitText(text)).toThrow((err as Error).message)
    return undefined
  }
  const parsed = parseSplitText(text)
  expect(JSON.stringify(plain(parsed))).toBe(JSON.stringify(expected))
  expect(plain(parsed)).toEqual(expected)
  return parsed
}

describe('parseSplitFile', () => {
  it('reads every split file of the fixtures and the example project like JSON.parse, with compact lists', async () => {
    let files = 0
    const splitFiles = ['test/fixtures/conformance', 'examples/kiln-project'].flatMap((dir) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('dataset_split.kiln')).map((name) => join(dir, name)))
    for (const file of splitFiles) {
      const parsed = expectLikeJsonParse(readFileSync(file, 'utf8'))
      expect(compactLists(parsed), file).toBe(true)
      files++
    }
    expect(files).toBeGreaterThan(5)
  })

  const split = (contents: string, extra = ''): string =>
    `{\n  "v": 1,\n  "id": "9",\n  "name": "n",${extra}\n  "split_contents": ${contents},\n  "description": "x"\n}`

  it('keeps ids with escapes, non-ASCII text, odd names and spacing exactly', () => {
    const texts = [
      split('{"train": ["\\u0031\\u0032", "a\\"b", "é😀", "tab\\tid"], "test": []}'),
      split('{ "__proto__" : [ "1" ] , "constructor": ["2"] }'),
      split('{}'),
      split('{"train":["1","2"],"train":["3"],"test":["4"]}'), // a repeated name: last wins, first place
      split('{"a": ["1"]}', '\n  "note": "split_contents: {\\"x\\": [1]}",'), // the key's text inside a string
      '{"split_contents":{"t":["1"]}}',
      ' \n\t{"id": "1", "nested": {"split_contents": {"t": [1]}}, "split_contents": {"t": ["2"]}}'
    ]
    for (const text of texts) expect(compactLists(expectLikeJsonParse(text)), text).toBe(true)
  })

  it('reads the key written with an escape, and ids with invalid UTF-8 as the decoded file has them', () => {
    expect(compactLists(expectLikeJsonParse(split('{"t": ["1"]}').replace('"split_contents"', '"split\\u005fcontents"')))).toBe(true)
    const bytes = Buffer.concat([Buffer.from('{"split_contents": {"t": ["a'), Buffer.from([0xe9, 0xff, 0xc3]), Buffer.from('", "é"]}}')])
    const parsed = parseSplitFile(bytes)
    expect(compactLists(parsed)).toBe(true)
    expect(plain(parsed)).toEqual(JSON.parse(bytes.toString('utf8')))
  })

  it('falls back to JSON.parse for shapes it does not compact, with the same result', () => {
    const texts = [
      split('{"train": ["1", 2]}'), // not all strings: the schema check will refuse it
      split('{"train": ["\\ud800"]}'), // a lone surrogate would not survive UTF-8
      split('["1"]'),
      '{"split_contents": {"a": ["1"]}, "split_contents": {"b": ["2"]}}', // the second key wins in JSON
      '[1, 2]',
      '"just a string"'
    ]
    for (const text of texts) expectLikeJsonParse(text)
  })

  it('throws what JSON.parse throws for text that is not JSON', () => {
    const texts = [
      split('{"train": ["1",]}'),
      split('{"train": ["1"],}'),
      split('{"train": ["a\u0001b"]}'), // a raw control character in an id
      split('{"train": ["\\x41"]}'),
      split('{"train": ["1"]}').replace('"v": 1,', '"v": 1,,'), // broken outside the lists
      split('{"train": ["1"]'),
      '{"split_contents": {"t": ["1"]}',
      ''
    ]
    for (const text of texts) {
      expect(() => JSON.parse(text)).toThrow()
      expectLikeJsonParse(text)
    }
  })
})

describe('a mounted project', () => {
  it('holds the id lists of the split it exports compact', async () => {
    const source = await new KilnProjects(EXAMPLE_PROJECT_DIR).find('150621256807')
    const lists = Object.values(source?.split.split_contents ?? {})
    expect(lists.length).toBeGreaterThan(0)
    for (const ids of lists) expect(ids).toBeInstanceOf(CompactRunIds)
  })
})

describe('CompactRunIds', () => {
  const ids = ['100012696278', 'é', '', '😀x', '42']
  const list = CompactRunIds.of(ids)

  it('gives back the ids in order, by index and by iteration', () => {
    expect(list.length).toBe(5)
    expect([...list]).toEqual(ids)
    expect(ids.map((_, i) => list.get(i))).toEqual(ids)
  })

  it('slices like an array, as views', () => {
    for (const [a, b] of [[0, 5], [1, 3], [2, 2], [3, 10], [-2, undefined], [0, -1], [4, 1], [undefined, undefined]] as const) {
      expect([...list.slice(a, b)]).toEqual(ids.slice(a, b))
      expect([...list.slice(1).slice(a, b)]).toEqual(ids.slice(1).slice(a, b))
    }
  })

  it('holds many ids', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => String(100000000000 + i * 7919))
    const compact = CompactRunIds.of(many)
    expect(compact.length).toBe(many.length)
    expect(compact.get(99_999)).toBe(many[99_999])
    expect([...compact.slice(50_000, 50_003)]).toEqual(many.slice(50_000, 50_003))
  })
})
