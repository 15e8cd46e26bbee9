#!/usr/bin/env python3
"""Golden cases for src/format/python-json.ts, computed by CPython 3.11 itself.

For every input text it records what `json.loads(text)` followed by
`json.dumps(value, ensure_ascii=False).encode('utf-8')` does in Python:

    {"input": ..., "ok": true, "dumped": ...}
    {"input": ..., "ok": false, "error_type": "JSONDecodeError" | "ValueError" | "RecursionError"
                                             | "UnicodeEncodeError", "message": str(err)}

The output is written with ensure_ascii=True (lone surrogates and astral characters become JSON
escapes, which JSON.parse turns back into the same UTF-16 string), one case per line, in a fixed
order, so reruns produce the same bytes.

Usage:
    python3 scripts/python-json-golden.py                      # writes test/fixtures/python-json/golden.json
    python3 scripts/python-json-golden.py --random 20000 --seed 7 --no-fixed --out /tmp/fuzz.json
"""

import argparse
import json
import os
import random
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit(f'python-json-golden.py must run on CPython 3.11 (this is {sys.version.split()[0]})')

DEFAULT_OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'python-json', 'golden.json'))
DEFAULT_SEED = 20240611
DEFAULT_RANDOM = 420

BIG_4300 = '1234567890' * 430
BIG_4301 = BIG_4300 + '7'

TYPICAL = (
    '{"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are a helpful '
    'assistant.\\nAnswer in JSON."}, {"role": "user", "content": "Résumé of 日本 😀, please"}, '
    '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", '
    '"function": {"name": "task_response", "arguments": "{\\"a\\": 1}"}}]}], "temperature": 0.7, '
    '"top_p": 1.0, "max_tokens": 1024, "scores": {"10": 0.25, "2": 1e-05, "1": 1E16, "0": -0.0}, '
    '"tags": ["a", "b", "\\u00e9\\u20ac\\ud83d\\ude00"], "ok": true, "missing": null}'
)

FIXED = [
    # --- whitespace, empty input, BOM, extra data
    '', ' ', '\t\n\r ', '1', ' 1 ', '\n\t1\r\n', '1 2', '1,', '1 x', '[1] [2]', '[1]]', '{}}', '"a" "b"',
    '\ufeff', '\ufeff{}', '\ufeff 1', ' \ufeff1', '\u00a01', '\u30001', '\x0c1', '\x0b1', '1\x0c', '1\x00',
    # --- literals
    'null', 'true', 'false', 'nul', 'tru', 'fals', 'nulll', 'True', 'None', 'truex', 'false1', 'n', 't', 'f',
    '[true,false,null]', '[nul]', '[true false]',
    'NaN', '-NaN', 'nan', 'Infinity', '-Infinity', 'Inf', '-Inf', 'infinity', 'Infinit', '-Infinit',
    '[NaN, Infinity, -Infinity]', '{"a": NaN}', 'Infinityx', 'NaNa', '-Infinity1', 'NaN1',
    # --- integers
    '0', '-0', '[-0, 0]', '7', '-7', '10', '100', '01', '-01', '00', '+1', '--1', '-a', '- 1', '-', '[-]', '[1-2]', '1-2',
    '0x10', '1_000', '\u0663', '\uff11', '9007199254740993', '-9007199254740993', '18446744073709551616',
    '123456789012345678901234567890', '-123456789012345678901234567890',
    BIG_4300, '-' + BIG_4300, BIG_4301, '-' + BIG_4301, '[' + BIG_4301 + ']', '[x, ' + BIG_4301 + ']',
    '[' + BIG_4301 + ', x]', BIG_4301 + '.0', BIG_4301 + 'e-4300', '0.' + BIG_4301,
    # --- floats: spelling and repr boundaries
    '-0.0', '0.0', '-0e0', '0e0', '0E+0', '-0E-0', '1.', '1.e5', '.5', '-.5', '1e', '1e+', '1e-', '1E', '[1e, 2]',
    '[1.5e+]', '[1.]', '1e5e5', '1.2.3', '1.5e', '1.5E-', '1e05', '1E5', '1e+5', '1e-5', '1.5e-5', '1.0', '100.0',
    '1e0', '1e-0', '1e+0', '10e-1', '0.1e1', '1e2', '1E2', '123.456e2', '6.5e2', '650.0', '4.35', '2.675',
    '1e15', '1e16', '-1e16', '1e-4', '-1e-4', '1e-5', '0.0001', '0.00001', '0.00009999999999999999', '0.000123',
    '0.0000123', '1e-6', '1e-7', '1e20', '1e21', '1e22', '1e23', '9999999999999998.0', '9999999999999999.0',
    '1234567890123456.7', '123456789012345678.0', '12345678901234567890.0', '1.2345678901234567e20',
    '123456789012345678901.0', '9007199254740993.0', '123e-20', '1.5e300', '-2.5e-310',
    '5e-324', '-5e-324', '2e-324', '3e-324', '4.9406564584124654e-324', '2.2250738585072014e-308',
    '2.2250738585072011e-308', '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308',
    '1e308', '1e309', '-1e309', '1e400', '-1e400', '1e-400', '-1e-400', '1e99999999999999999999', '0e99999',
    '0.1', '0.2', '0.30000000000000004', '0.3', '1.1', '0.7', '0.1e-3', '3.141592653589793238462643383279',
    '0.' + '1' * 200, '1' + '0' * 400 + '.0', '[0.1, 0.2, 0.30000000000000004, 1e16, 1e-5, 1.0]',
    # --- strings
    '""', '"abc"', r'"\""', r'"\\"', r'"\/"', '"/"', r'"\b\f\n\r\t"', r'"\u0041"', r'"\u00e9"', r'"\u00E9"',
    r'"\u20ac"', r'"\u0000"', r'"\u001f"', r'"\u0008\u000c\u000a\u000d\u0009\u000b"', r'"\u007f"', r'"\u0085"',
    r'"\u2028\u2029"', '"\u2028\u2029"', '"\x7f"', '"\x85"', '"\u00a0"', '"\ufeff"', '"\ufffe\uffff"', '"😀"', '"é"',
    '"日本語"', '"\U0010ffff"', r'"\ud83d\ude00"', r'"\uD83D\uDE00"', r'"\udbff\udfff"', r'"a\ud83d\ude00b"',
    r'"\ud800"', r'"\udc00"', r'"\udfff"', r'"\ud800\ud800"', r'"\udc00\ud800"', r'"\ud800x"', r'"\ud800\n"',
    r'"\ud800\u0041"', r'"\udc00\ud83d\ude00"', r'"a\ud800b\udfffc"', r'["ok", "\ud800"]',
    r'{"\ud800": 1}', r'{"a": "\udc00"}', r'{"😀": "\ud800"}', '["😀", "\\ud800"]',
    '"\ud800"', '"a\udc00b"', '["x", "\udfff"]', '{"k\udbff": 1}',
    r'"\x"', r'"\a"', r"'\''", r'"\'"', r'"\U0001F600"', r'"\u12"', r'"\u12G4"', r'"\uGGGG"', r'"\u"', r'"\u0041',
    r'"\u004"', r'"\u00411', r'"\ud800\uZZZZ"', r'"\ud800\u12"', r'"\ud800\udc0', r'"\ud800\udc00',
    r'"\ud800\udc00x', '"\\', '"abc\\', '"abc', '"', '["abc', '{"abc', '{"a":"b', '"\x00"', '"\x1f"', '"\x01x"',
    '"a\nb"', '"a\tb"', '"a\rb"', '"\x7fok"', '"😀\x01"', '"😀\\x"', '"😀\n😀"', '"😀😀\\u12"',
    # --- positions after emoji and newlines
    '"😀" x', '["😀", x]', '{"😀😀": 1 2}', '😀', '[😀]', '["😀😀😀",]', '{"a":"😀"}x', '\n😀', '"😀\n',
    '[\n1,\n2\n', '{\n  "a": 1,\n  "b" 2\n}', '[1,\n\n\n x]', '\n\n\n', '{"a":\n"b"\n,}', '[\r\n1\r\n2]',
    '[\n"😀",\n"😀" 1]', '"\\ud83d\\ude00" x', '  \n  \n  x', '[1,\n2,\n3,\n]',
    # --- objects
    '{}', '{ }', '{\n}', '{"a":1}', '{"a" : 1 , "b" : 2}', '{"10": 1, "2": 2, "1": 3, "-1": 4, "01": 5, "a": 6}',
    '{"b":1,"a":2}', '{"a":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"a":{"a":1},"a":[1]}', '{"2":1,"10":2,"2":3}',
    '{"":1}', '{"": 1, "": 2}', '{"9007199254740993": 1, "4294967295": 2, "4294967294": 3, "0": 4}',
    '{"__proto__": 1, "constructor": {}, "toString": 2, "hasOwnProperty": 3}', '{"a": 1, "b": [], "c": {}}',
    '{"a":1,}', '{,}', '{"a"}', '{"a":}', '{"a":1 "b":2}', '{"a":1;"b":2}', '{a:1}', "{'a':1}", '{1:1}',
    '{"a":1', '{"a"', '{"a":', '{', '{"a" 1}', '{"a"::1}', '{"a":1,,"b":2}', '{"a":1,"b"}', '{"a" "b"}', '}',
    '{"a": [1, 2}', '{"a": {"b": 1]}', '{"a":1}{"b":2}', '{"\\u0061": 1, "a": 2}', '{"a\\nb": "c\\td"}',
    # --- arrays
    '[]', '[ ]', '[\n]', '[1]', '[1,2,3]', '[1 2]', '[1,]', '[,1]', '[,]', '[', ']', '[[]]', '[[],[{}]]',
    '[1,,2]', '[1];', '[1, {"a": [2, {"b": null}]}]', '["a",\n"b"]', '[[[[[[]]]]]]', '[[[', '[[[]]', '[{]',
    '[{"a":1},{"a":2},]',
    # --- comments, single quotes and other non-JSON
    '// c\n1', '/* c */ 1', '[1 /* c */]', '{"a": 1 // c\n}', '# c\n1', "'a'", "['a']", '{"a": \'b\'}',
    '[undefined]', '(1)', '<1>',
    # --- nesting
    '[' * 500 + ']' * 500, '[' * 200 + '1' + ']' * 200, '{"a":' * 300 + '{}' + '}' * 300,
    '[' * 500 + ']' * 499, '[x' + '[' * 1500, '[' * 1500 + ']' * 1500, '{"a":' * 1500 + '1' + '}' * 1500,
    '[' * 1500,
    # --- a typical record
    TYPICAL,
]

# ------------------------------------------------------------------------------------------------
# Random cases

KEY_POOL = ['a', 'b', 'id', 'name', '10', '2', '1', '0', '-1', '01', '1.5', '', ' ', 'é', '😀', 'a b',
            '__proto__', 'constructor', 'length', '4294967295', '9007199254740993', 'x\ny', '"q"']
CHAR_POOL = (list('abcdefXYZ0129 _-/.,:{}[]') + ['"', '\\', '\n', '\t', '\r', '\b', '\f', '\x00', '\x01', '\x1f',
             '\x7f', '\x85', '\xa0', 'é', 'ß', '€', '日', '本', '\u2028', '\u2029', '\ufeff', '\ufffd', '😀', '𝄞',
             '\U0010ffff'])
SHORT_ESCAPES = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '/': '\\/'}
SPECIAL_NUMBERS = ['0', '-0', '-0.0', '0.0', '1e16', '1e15', '1e-4', '1e-5', '5e-324', '1.7976931348623157e308',
                   '1e400', '-1e400', '1e-400', '0.1', '0.30000000000000004', '9007199254740993', 'NaN', 'Infinity',
                   '-Infinity', '1E+2', '2.5E-3', '123456789012345678901234567890']
MUTATIONS = [',', ':', '"', '\\', '[', ']', '{', '}', 'x', ' ', '\n', '😀', '\x01', '1', 'e', 'E', '-', '+', '.',
             '0', 'u', '\\u', '\\ud83d', 'null', 'NaN', "'", '/', '\t']


def rand_ws(r):
    return r.choice(['', '', '', '', ' ', ' ', '\n', '\t', '\r\n', '  \n  '])


def hex4(r, cp):
    h = '%04x' % cp
    return '\\u' + (h.upper() if r.random() < 0.3 else h)


def rand_string_body(r):
    parts = []
    for _ in range(r.randint(0, 12)):
        k = r.random()
        if k < 0.03:
            # escaped lone or paired surrogates
            parts.append(r.choice(['\\ud800', '\\udc00', '\\udbff\\udfff', '\\ud83d\\ude00', '\\ud800\\ud800',
                                   '\\udc00\\ud800', '\\ud800x', '\\uDFFF']))
            continue
        ch = r.choice(CHAR_POOL)
        cp = ord(ch)
        must = ch in '"\\' or cp < 0x20
        if must and r.random() < 0.04:
            parts.append(ch)  # raw: an error for '"' / '\\' / control characters
        elif must or r.random() < 0.15:
            if ch in SHORT_ESCAPES and r.random() < 0.7:
                parts.append(SHORT_ESCAPES[ch])
            elif cp > 0xffff:
                v = cp - 0x10000
                parts.append(hex4(r, 0xd800 + (v >> 10)) + hex4(r, 0xdc00 + (v & 0x3ff)))
            else:
                parts.append(hex4(r, cp))
        else:
            parts.append(ch)
    return ''.join(parts)


def rand_number(r):
    k = r.random()
    if k < 0.2:
        return r.choice(SPECIAL_NUMBERS)
    sign = '-' if r.random() < 0.3 else ''
    if k < 0.5:
        n = r.randint(1, 25)
        return sign + (str(r.randint(1, 9)) + ''.join(r.choice('0123456789') for _ in range(n - 1)) if n > 1 else str(r.randint(0, 9)))
    if k < 0.75:
        x = r.uniform(-1, 1) * 10.0 ** r.randint(-323, 308)
        spelled = r.choice(['%.17e', '%.25g', '%.16g', '%r', '%.3e', '%.6f'])
        s = repr(x) if spelled == '%r' else spelled % x
        if 'inf' in s or 'nan' in s:
            return '1e999'
        return s
    mant = str(r.randint(0, 9)) if r.random() < 0.3 else str(r.randint(1, 9)) + ''.join(r.choice('0123456789') for _ in range(r.randint(0, 20)))
    frac = ('.' + ''.join(r.choice('0123456789') for _ in range(r.randint(1, 20)))) if r.random() < 0.7 else ''
    exp = (r.choice('eE') + r.choice(['', '+', '-']) + str(r.randint(0, 340))) if r.random() < 0.6 else ''
    if not frac and not exp:
        frac = '.0'
    return sign + mant + frac + exp


def rand_value(r, depth):
    k = r.random()
    if depth > 4 or k < 0.45:
        k2 = r.random()
        if k2 < 0.35:
            return '"' + rand_string_body(r) + '"'
        if k2 < 0.8:
            return rand_number(r)
        return r.choice(['null', 'true', 'false'])
    if k < 0.7:
        items = [rand_ws(r) + rand_value(r, depth + 1) + rand_ws(r) for _ in range(r.randint(0, 5))]
        return '[' + ','.join(items) + (rand_ws(r) if not items else '') + ']'
    members = []
    for _ in range(r.randint(0, 5)):
        key = r.choice(KEY_POOL) if r.random() < 0.7 else rand_string_body(r)
        if key in SHORT_ESCAPES or '\n' in key or '"' in key:
            key = json.dumps(key, ensure_ascii=False)[1:-1]
        members.append(rand_ws(r) + '"' + key + '"' + rand_ws(r) + ':' + rand_ws(r) + rand_value(r, depth + 1) + rand_ws(r))
    if members and r.random() < 0.3:
        members.append(members[0])  # duplicate key
    return '{' + ','.join(members) + (rand_ws(r) if not members else '') + '}'


def mutate(r, text):
    i = r.randint(0, len(text))
    op = r.random()
    if op < 0.3 and text:
        return text[:i] + text[i + 1:]
    if op < 0.65:
        return text[:i] + r.choice(MUTATIONS) + text[i:]
    if op < 0.85 and text:
        return text[:i] + r.choice(MUTATIONS) + text[i + 1:]
    return text[:i]


def random_cases(count, seed):
    r = random.Random(seed)
    out = []
    while len(out) < count:
        text = rand_ws(r) + rand_value(r, 0) + rand_ws(r)
        if r.random() < 0.4:
            for _ in range(r.randint(1, 2)):
                text = mutate(r, text)
        if len(text) > 600:
            continue
        out.append(text)
    return out


# ------------------------------------------------------------------------------------------------

def is_surrogate(c):
    return 0xd800 <= ord(c) <= 0xdfff


def check_representable(text):
    """A JS string cannot hold a raw high surrogate followed by a raw low one as two code points."""
    for a, b in zip(text, text[1:]):
        if 0xd800 <= ord(a) <= 0xdbff and 0xdc00 <= ord(b) <= 0xdfff:
            raise SystemExit(f'input not representable in UTF-16: {text!r}')


def run_case(text):
    check_representable(text)
    try:
        value = json.loads(text)
    except RecursionError as err:
        return {'input': text, 'ok': False, 'error_type': 'RecursionError', 'message': str(err)}
    except json.JSONDecodeError as err:
        return {'input': text, 'ok': False, 'error_type': 'JSONDecodeError', 'message': str(err)}
    except ValueError as err:
        return {'input': text, 'ok': False, 'error_type': 'ValueError', 'message': str(err)}
    dumped = json.dumps(value, ensure_ascii=False)
    check_representable(dumped)
    try:
        dumped.encode('utf-8')
    except UnicodeEncodeError as err:
        return {'input': text, 'ok': False, 'error_type': 'UnicodeEncodeError', 'message': str(err)}
    return {'input': text, 'ok': True, 'dumped': dumped}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--seed', type=int, default=DEFAULT_SEED)
    ap.add_argument('--random', type=int, default=DEFAULT_RANDOM, help='number of random cases')
    ap.add_argument('--no-fixed', action='store_true', help='only random cases (for fuzzing)')
    args = ap.parse_args()

    texts = ([] if args.no_fixed else list(FIXED)) + random_cases(args.random, args.seed)
    seen = set()
    cases = []
    for text in texts:
        if text in seen:
            continue
        seen.add(text)
        cases.append(run_case(text))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='ascii', newline='\n') as f:
        f.write('[\n')
        f.write(',\n'.join(json.dumps(c, ensure_ascii=True, sort_keys=True) for c in cases))
        f.write('\n]\n')
    kinds = {}
    for c in cases:
        k = 'ok' if c['ok'] else c['error_type']
        kinds[k] = kinds.get(k, 0) + 1
    print(f'wrote {len(cases)} cases to {args.out}: {kinds}', file=sys.stderr)


if __name__ == '__main__':
    main()
