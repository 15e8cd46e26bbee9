import { beforeAll, describe, expect, it } from 'vitest'
import { ReportTokenCounter } from '../../src/validate/report-tokens.js'
import { loadTokenCounter, type TextTokenCounter } from '../../src/validate/tokenizers.js'
import { WorkBudget, WorkBudgetExceededError } from '../../src/validate/work-budget.js'

let o200k: TextTokenCounter
let cl100k: TextTokenCounter
beforeAll(async () => {
  o200k = await loadTokenCounter('o200k_base')
  cl100k = await loadTokenCounter('cl100k_base')
})

const TEXTS = {
  english: 'The quick brown fox jumps over the lazy dog, and then it rests. 123456 ',
  french: 'Je crois que l’homme n’est pas fait pour vivre seul; il a besoin d’autrui — c’est évident. «Oui», dit-il. ',
  chinese: '我们今天去公园散步，天气很好。他说：“你好！”',
  japanese: '東京は日本の首都です。人口は約千四百万人で、世界最大級の都市圏を形成しています。',
  code: 'function f(a,b){return a+b;}const x=f(1,2);console.log(x);',
  mixed: "I'm here, don't go. It's John's.\n\n  Hello\tworld!!! ok?? e\u0301te\u0301 naïve café 😀 test😀word "
}

describe('ReportTokenCounter', () => {
  it('counts a long text in slices to exactly what the tokenizer counts at once', async () => {
    for (const [count, name] of [[o200k, 'o200k'], [cl100k, 'cl100k']] as const) {
      for (const [language, unit] of Object.entries(TEXTS)) {
        const text = unit.repeat(300)
        const counter = new ReportTokenCounter(count, new WorkBudget(Infinity), 500)
        expect(await counter.count(text), `${name} ${language}`).toBe(count(text))
      }
    }
  })

  it('counts a word of millions of letters in pieces, near the tokenizer\'s count', async () => {
    // The tokenizer's byte-pair merge is quadratic in a word's length: 4 MiB in one word would take hours.
    const counter = new ReportTokenCounter(o200k, new WorkBudget(Infinity))
    expect(await counter.count('x'.repeat(4 * 1024 * 1024))).toBeGreaterThan(0)
    for (const run of ['a'.repeat(2000), '!'.repeat(2000), ' '.repeat(2000) + 'x', 'ab'.repeat(1000)]) {
      const pieces = Math.ceil(run.length / 128)
      expect(Math.abs(await counter.count(run) - o200k(run))).toBeLessThanOrEqual(pieces)
    }
  })

  it('remembers a long text it met, and charges the budget for it once', async () => {
    const budget = new WorkBudget(Infinity)
    const seen: string[] = []
    const counter = new ReportTokenCounter((text) => { seen.push(text); return o200k(text) }, budget)
    const system = TEXTS.english.repeat(100)
    const first = await counter.count(system)
    expect(await counter.count(`${system}`)).toBe(first)
    expect(await counter.countChat({ messages: [{ role: 'system', texts: [system] }, { role: 'user', texts: ['hi', system] }], extra: [] }))
      .toBe(3 + 3 + 1 + first + 3 + 1 + 1 + first)
    expect(seen.filter((text) => text === system)).toHaveLength(1)
    expect(budget.used).toBe(system.length + 'system'.length + 'user'.length + 'hi'.length)
  })

  it('throws once the texts it counts pass the budget', async () => {
    const counter = new ReportTokenCounter(o200k, new WorkBudget(1000))
    await counter.count('a'.repeat(600))
    await expect(counter.count('b'.repeat(600))).rejects.toBeInstanceOf(WorkBudgetExceededError)
  })
})
