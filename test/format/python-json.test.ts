import { readFileSync } from 'node:fs'
import { describe, it, expect } from 'vitest'
import {
  MAX_NESTING_DEPTH,
  PyNumber,
  PythonJsonDecodeError,
  PythonJsonValueError,
  UnencodableStringError,
  checkPythonJsonDumpable,
  dumpPythonJson,
  formatFloat,
  parsePythonJson,
  type PyDumpable,
  type PyValue
} from '../../src/format/python-json.js'

/** parse then dump, the way the golden cases were produced in Python. */
function roundTrip (text: string): string {
  return dumpPythonJson(parsePythonJson(text))
}

function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function decodeErrorOf (text: string): PythonJsonDecodeError {
  const err = thrown(() => parsePythonJson(text))
  expect(err).toBeInstanceOf(PythonJsonDecodeError)
  return err as PythonJsonDecodeError
}

function asMap (value: PyValue): Map<string, PyValue> {
  expect(value).toBeInstanceOf(Map)
  return value as Map<string, PyValue>
}

interface GoldenCase {
  readonly input: string
  readonly ok: boolean
  readonly dumped?: string
  readonly error_type?: 'JSONDecodeError' | 'ValueError' | 'RecursionError' | 'UnicodeEncodeError'
  readonly message?: string
}

describe('golden cases from CPython 3.11 (scripts/python-json-golden.py)', () => {
  const golden = JSON.parse(
    readFileSync(new URL('../fixtures/python-json/golden.json', import.meta.url), 'utf8')
  ) as GoldenCase[]

  it('has the fixture', () => {
    expect(golden.length).toBeGreaterThan(700)
  })

  it('reproduces every case: same dumped text, or same error class and message', () => {
    const failures: string[] = []
    for (const c of golden) {
      const expected = c.ok ? `ok ${c.dumped ?? ''}` : `${c.error_type ?? ''} ${c.message ?? ''}`
      let actual: string
      try {
        actual = `ok ${roundTrip(c.input)}`
      } catch (err) {
        if (err instanceof PythonJsonDecodeError) {
          actual = `JSONDecodeError ${err.message}`
          if (err.message !== `${err.msg}: line ${err.lineno} column ${err.colno} (char ${err.pos})`) actual += ' (fields disagree)'
        } else if (err instanceof PythonJsonValueError) {
          actual = `${err.kind === 'int_max_str_digits' ? 'ValueError' : 'RecursionError'} ${err.message}`
        } else if (err instanceof UnencodableStringError) {
          // Python's json.loads succeeded; only writing the dumped text as UTF-8 failed.
          actual = `UnicodeEncodeError ${err.message}`
          parsePythonJson(c.input)
        } else {
          actual = `unexpected ${String(err)}`
        }
      }
      if (actual !== expected) {
        failures.push(`input ${JSON.stringify(c.input.slice(0, 200))}\n  expected ${JSON.stringify(expected.slice(0, 300))}\n  actual   ${JSON.stringify(actual.slice(0, 300))}`)
      }
    }
    expect(failures).toEqual([])
  })
})

describe('checkPythonJsonDumpable (the check pass)', () => {
  const golden = JSON.parse(
    readFileSync(new URL('../fixtures/python-json/golden.json', import.meta.url), 'utf8')
  ) as GoldenCase[]

  /** 'ok', or the error's class and message. */
  function outcome (fn: () => unknown): string {
    try {
      fn()
      return 'ok'
    } catch (err) {
      return `${(err as Error).constructor.name} ${(err as Error).message}`
    }
  }

  it('throws exactly what dumpPythonJson throws, for every parsable golden value', () => {
    let compared = 0
    for (const c of golden) {
      let value: PyValue
      try {
        value = parsePythonJson(c.input)
      } catch {
        continue
      }
      compared++
      expect(outcome(() => checkPythonJsonDumpable(value)), c.input.slice(0, 100)).toBe(outcome(() => dumpPythonJson(value)))
    }
    expect(compared).toBeGreaterThan(300)
  })

  it('finds a lone surrogate in a key or deep in a value, and a value nested too deep', () => {
    const values: PyDumpable[] = [
      new Map([['ok', 'fine'], ['\ud800', 1 as never]]),
      { a: [1, { b: ['x', 'tail \udc00'] }] } as never,
      JSON.parse('['.repeat(MAX_NESTING_DEPTH + 1) + ']'.repeat(MAX_NESTING_DEPTH + 1)) as PyDumpable
    ]
    for (const value of values) {
      const expected = outcome(() => dumpPythonJson(value))
      expect(expected).not.toBe('ok')
      expect(outcome(() => checkPythonJsonDumpable(value))).toBe(expected)
    }
  })
})

describe('floats', () => {
  it.each([
    ['1.0', '1.0'],
    ['1', '1'],
    ['650', '650'],
    ['6.5e2', '650.0'],
    ['1e15', '1000000000000000.0'],
    ['1e16', '1e+16'],
    ['12345678901234567.0', '1.2345678901234568e+16'],
    ['0.0001', '0.0001'],
    ['1e-5', '1e-05'],
    ['1E-2', '0.01'],
    ['1e22', '1e+22'],
    ['123456789012345678901.0', '1.2345678901234568e+20'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['0.1', '0.1'],
    ['-0.0', '-0.0'],
    ['-0e5', '-0.0'],
    ['1e-400', '0.0'],
    ['-1e-400', '-0.0']
  ])('%s dumps as %s', (input, dumped) => {
    expect(roundTrip(input)).toBe(dumped)
  })

  it('formats numbers like float.__repr__', () => {
    expect(formatFloat(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(formatFloat(1e16 - 2)).toBe('9999999999999998.0')
    expect(formatFloat(9.999999999999999e-5)).toBe('9.999999999999999e-05')
    expect(formatFloat(-1.5e-7)).toBe('-1.5e-07')
    expect(formatFloat(1e100)).toBe('1e+100')
    expect(formatFloat(Number.NaN)).toBe('NaN')
  })

  it('backs off a fraction or exponent without digits, like the C scanner', () => {
    expect(decodeErrorOf('1e').message).toBe('Extra data: line 1 column 2 (char 1)')
    expect(decodeErrorOf('1.').message).toBe('Extra data: line 1 column 2 (char 1)')
    expect(decodeErrorOf('[1e+]').message).toBe("Expecting ',' delimiter: line 1 column 3 (char 2)")
    expect(decodeErrorOf('01').message).toBe('Extra data: line 1 column 2 (char 1)')
    expect(decodeErrorOf('-').message).toBe('Expecting value: line 1 column 1 (char 0)')
    expect(decodeErrorOf('.5').message).toBe('Expecting value: line 1 column 1 (char 0)')
  })
})

describe('integers', () => {
  it('keeps every digit', () => {
    expect(roundTrip('9007199254740993')).toBe('9007199254740993')
    expect(roundTrip('-123456789012345678901234567890')).toBe('-123456789012345678901234567890')
    expect(roundTrip('[-0, 0]')).toBe('[0, 0]')
  })

  it('accepts 4300 digits and refuses 4301 with Python\'s ValueError message', () => {
    const digits = '7'.repeat(4300)
    expect(roundTrip(digits)).toBe(digits)
    expect(roundTrip('-' + digits)).toBe('-' + digits)
    const err = thrown(() => parsePythonJson(`[-${digits}1]`))
    expect(err).toBeInstanceOf(PythonJsonValueError)
    expect((err as PythonJsonValueError).kind).toBe('int_max_str_digits')
    expect((err as Error).message).toBe(
      'Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit'
    )
    // a float has no digit limit
    expect(roundTrip(digits + '1e-4300')).toBe('7.777777777777778')
  })
})

describe('objects', () => {
  it('keeps integer-like keys in parsed order', () => {
    const text = '{"10": 1, "2": 2, "1": 3, "a": {"10": [], "9": {}}}'
    const value = asMap(parsePythonJson(text))
    expect([...value.keys()]).toEqual(['10', '2', '1', 'a'])
    expect(dumpPythonJson(value)).toBe(text)
  })

  it('lets the last duplicate win at the first key\'s position', () => {
    const value = asMap(parsePythonJson('{"a": 1, "b": 2, "a": 3}'))
    expect([...value.keys()]).toEqual(['a', 'b'])
    expect(dumpPythonJson(value)).toBe('{"a": 3, "b": 2}')
    expect(roundTrip('{"a": {"x": 1}, "a": [1]}')).toBe('{"a": [1]}')
  })

  it('treats __proto__ as an ordinary key', () => {
    expect(roundTrip('{"__proto__": {"x": 1}, "constructor": 2}')).toBe('{"__proto__": {"x": 1}, "constructor": 2}')
  })

  it('dumps plain object literals, Maps and arrays with Python separators', () => {
    const line: PyDumpable = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [] }
      ],
      meta: new Map<string, PyDumpable>([['2', true], ['10', new PyNumber('1.5', true)]]),
      empty: {}
    }
    expect(dumpPythonJson(line)).toBe(
      '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null, "tool_calls": []}], ' +
        '"meta": {"2": true, "10": 1.5}, "empty": {}}'
    )
  })
})

describe('strings', () => {
  it('decodes escapes and joins escaped surrogate pairs', () => {
    expect(parsePythonJson(String.raw`"\" \\ \/ \b \f \n \r \t \u0041\u00e9 \ud83d\ude00 \uD83D\uDE00"`))
      .toBe('" \\ / \b \f \n \r \t Aé 😀 😀')
  })

  it('escapes like json.dumps(ensure_ascii=False): only quote, backslash and C0 controls', () => {
    const s = '\x00\x1f\x7f\u2028\u2029\x85/"\\\b\f\n\r\té😀'
    expect(dumpPythonJson([s])).toBe('["\\u0000\\u001f\x7f\u2028\u2029\x85/\\"\\\\\\b\\f\\n\\r\\té😀"]')
    expect(roundTrip('"\u2028\u2029"')).toBe('"\u2028\u2029"')
  })

  it('rejects raw control characters and bad escapes where Python does', () => {
    expect(decodeErrorOf('"a\x01"').message).toBe('Invalid control character at: line 1 column 3 (char 2)')
    expect(decodeErrorOf('"a\nb"').message).toBe('Invalid control character at: line 1 column 3 (char 2)')
    expect(decodeErrorOf(String.raw`"\x"`).message).toBe('Invalid \\escape: line 1 column 2 (char 1)')
    expect(decodeErrorOf(String.raw`"\uZZZZ"`).message).toBe('Invalid \\uXXXX escape: line 1 column 3 (char 2)')
    // Python wants a character after the four hex digits, even when the string is unterminated
    expect(decodeErrorOf(String.raw`"\u0041`).message).toBe('Invalid \\uXXXX escape: line 1 column 3 (char 2)')
    expect(decodeErrorOf('"abc').message).toBe('Unterminated string starting at: line 1 column 1 (char 0)')
    expect(decodeErrorOf('"abc\\').message).toBe('Unterminated string starting at: line 1 column 1 (char 0)')
    expect(roundTrip('"\x7f"')).toBe('"\x7f"')
  })
})

describe('decode errors', () => {
  it('counts positions in code points: an emoji counts once', () => {
    const err = decodeErrorOf('["😀😀", x]')
    expect(err.message).toBe('Expecting value: line 1 column 8 (char 7)')
    expect([err.msg, err.pos, err.lineno, err.colno]).toEqual(['Expecting value', 7, 1, 8])
    expect(decodeErrorOf('"\\ud83d\\ude00\x01"').message).toBe('Invalid control character at: line 1 column 14 (char 13)')
  })

  it('reports line and column after newlines', () => {
    expect(decodeErrorOf('[1,\n  2,\n  x]').message).toBe('Expecting value: line 3 column 3 (char 11)')
    expect(decodeErrorOf('{"a":\n "😀" "b"}').message).toBe("Expecting ',' delimiter: line 2 column 6 (char 11)")
    expect(decodeErrorOf('[\r\n1\r\n2]').message).toBe("Expecting ',' delimiter: line 3 column 1 (char 6)")
  })

  it('has Python\'s message for each failure', () => {
    expect(decodeErrorOf('').message).toBe('Expecting value: line 1 column 1 (char 0)')
    expect(decodeErrorOf('\ufeff{}').message).toBe('Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)')
    expect(decodeErrorOf('[1,]').message).toBe('Expecting value: line 1 column 4 (char 3)')
    expect(decodeErrorOf('{"a":1,}').message).toBe('Expecting property name enclosed in double quotes: line 1 column 8 (char 7)')
    expect(decodeErrorOf("{'a': 1}").message).toBe('Expecting property name enclosed in double quotes: line 1 column 2 (char 1)')
    expect(decodeErrorOf('{"a" 1}').message).toBe("Expecting ':' delimiter: line 1 column 6 (char 5)")
    expect(decodeErrorOf('[1 // c\n]').message).toBe("Expecting ',' delimiter: line 1 column 4 (char 3)")
    expect(decodeErrorOf('{} x').message).toBe('Extra data: line 1 column 4 (char 3)')
  })
})

describe('non-finite numbers', () => {
  it('accepts NaN and Infinity literals and overflowing floats, flagged as not finite', () => {
    const value = parsePythonJson('[NaN, Infinity, -Infinity, 1e400, -1e400, 1.5, 2]')
    expect(Array.isArray(value)).toBe(true)
    const numbers = value as PyNumber[]
    expect(numbers.map((n) => [n.text, n.finite])).toEqual([
      ['NaN', false], ['Infinity', false], ['-Infinity', false], ['Infinity', false], ['-Infinity', false],
      ['1.5', true], ['2', true]
    ])
    expect(dumpPythonJson(value)).toBe('[NaN, Infinity, -Infinity, Infinity, -Infinity, 1.5, 2]')
  })
})

describe('nesting depth', () => {
  it(`accepts ${MAX_NESTING_DEPTH} nested containers and refuses one more, like RecursionError`, () => {
    const ok = '['.repeat(MAX_NESTING_DEPTH) + ']'.repeat(MAX_NESTING_DEPTH)
    expect(roundTrip(ok)).toBe(ok)
    const arrays = thrown(() => parsePythonJson('['.repeat(MAX_NESTING_DEPTH + 1) + ']'.repeat(MAX_NESTING_DEPTH + 1)))
    expect(arrays).toBeInstanceOf(PythonJsonValueError)
    expect((arrays as PythonJsonValueError).kind).toBe('nesting_too_deep')
    expect((arrays as Error).message).toBe('maximum recursion depth exceeded while decoding a JSON array from a unicode string')
    const objects = thrown(() => parsePythonJson('{"a":'.repeat(MAX_NESTING_DEPTH + 1) + '1' + '}'.repeat(MAX_NESTING_DEPTH + 1)))
    expect((objects as Error).message).toBe('maximum recursion depth exceeded while decoding a JSON object from a unicode string')
  })

  it('does not overflow the JS stack on huge nesting', () => {
    const err = thrown(() => parsePythonJson('['.repeat(1_000_000)))
    expect(err).toBeInstanceOf(PythonJsonValueError)
  })

  it('reports an earlier syntax error before the depth', () => {
    expect(decodeErrorOf('[x' + '['.repeat(5000)).message).toBe('Expecting value: line 1 column 2 (char 1)')
  })

  it('refuses to dump deeper values, like the encoder', () => {
    let deep: PyDumpable = []
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) deep = [deep]
    const err = thrown(() => dumpPythonJson(deep))
    expect(err).toBeInstanceOf(PythonJsonValueError)
    expect((err as Error).message).toBe('maximum recursion depth exceeded while encoding a JSON object')
  })
})

describe('lone surrogates', () => {
  it('parses them like Python keeps them', () => {
    expect(parsePythonJson('"\\ud800x"')).toBe('\ud800x')
    expect(parsePythonJson('"\\udc00\\ud800"')).toBe('\udc00\ud800')
  })

  it('refuses to dump them with the UTF-8 encoder\'s message and code-point position', () => {
    const err = thrown(() => dumpPythonJson(['😀', '\ud800']))
    expect(err).toBeInstanceOf(UnencodableStringError)
    expect((err as UnencodableStringError).position).toBe(7)
    expect((err as Error).message).toBe("'utf-8' codec can't encode character '\\ud800' in position 7: surrogates not allowed")
    const key = thrown(() => dumpPythonJson(new Map([['k😀\udc00', null]])))
    expect((key as Error).message).toBe("'utf-8' codec can't encode character '\\udc00' in position 4: surrogates not allowed")
  })

  it('reports a run of adjacent lone surrogates as Python does', () => {
    const err = thrown(() => roundTrip('["\\udc00\\ud800\\ud83d\\ude00"]'))
    expect((err as Error).message).toBe("'utf-8' codec can't encode characters in position 2-3: surrogates not allowed")
    expect((err as UnencodableStringError).endPosition).toBe(4)
  })

  it('keeps them raw on request, so an outer dump reports the final position', () => {
    const inner = dumpPythonJson(parsePythonJson('{"a": "x\\ud800"}'), { keepLoneSurrogates: true })
    expect(inner).toBe('{"a": "x\ud800"}')
    const err = thrown(() => dumpPythonJson({ messages: [{ role: 'assistant', content: inner }] }))
    expect((err as Error).message).toBe("'utf-8' codec can't encode character '\\ud800' in position 59: surrogates not allowed")
  })
})
