import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, describeJsonPath, tooDeepAt } from '../src/json-depth.js'

const nestedArrays = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth))

describe('tooDeepAt', () => {
  it('accepts MAX_JSON_DEPTH levels and names the path to the first container past them', () => {
    expect(MAX_JSON_DEPTH).toBe(1000)
    expect(tooDeepAt(nestedArrays(1000))).toBeUndefined()
    expect(tooDeepAt(nestedArrays(1001))).toEqual(Array(1000).fill(0))
    expect(tooDeepAt({ a: 1, b: { c: [2, { d: 3 }] } }, 3)).toEqual(['b', 'c', 1])
    expect(tooDeepAt({ a: 1, b: { c: [2, { d: 3 }] } }, 4)).toBeUndefined()
    expect(tooDeepAt('text')).toBeUndefined()
    expect(tooDeepAt(null)).toBeUndefined()
  })

  it('finds the first offender in document order, past shallow siblings', () => {
    const value = { first: [[1]], second: { x: [[[2]]] }, third: [[[[3]]]] }
    expect(tooDeepAt(value, 3)).toEqual(['second', 'x', 0])
  })

  it('walks a million levels without overflowing the stack', () => {
    expect(tooDeepAt(nestedArrays(1_000_000))?.length).toBe(1000)
  })

  it('describes a path by its first segments', () => {
    expect(describeJsonPath('body', ['tools', 0, 'function', 'parameters'])).toBe('body/tools/0/function/parameters')
    expect(describeJsonPath('body', Array(1000).fill('a'))).toBe('body/a/a/a/a/a/a/a/a/…')
  })
})
