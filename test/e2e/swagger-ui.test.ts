import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_PROJECT_DIR } from '../../src/config.js'
import { DATA_STRATEGIES } from '../../src/format/index.js'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { postJson, startServer } from '../helpers/server.js'

/*
 * Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): a person opens
 * /docs, expands the export, tries it out with the first example and gets the JSONL file.
 * Chromium comes from `scripts/install-chromium.sh`; without it the test is skipped, saying so.
 */

/**
 * The Chromium (or Chrome) to drive: CHROMIUM_PATH, else the first of the usual names on PATH
 * (Debian's `chromium`, Ubuntu's `chromium-browser`, Google's builds), else macOS's app.
 */
function findChromium (): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv) ? fromEnv : undefined
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), '/usr/bin', '/snap/bin']
  const candidates = [...dirs.flatMap((dir) => names.map((name) => join(dir, name))), '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome']
  return candidates.find((path) => existsSync(path))
}

const CHROMIUM = findChromium()
const SKIP_REASON = CHROMIUM === undefined
  ? 'no Chromium found (CHROMIUM_PATH, or chromium/chromium-browser/google-chrome on PATH): run `npm run install:chromium` as root to run it'
  : undefined
// The default reporter hides skip notes; a warning on stderr is shown in every run.
if (SKIP_REASON !== undefined) console.warn(`Swagger UI browser test SKIPPED: ${SKIP_REASON}`)
const SCREENSHOT = new URL('../../test-artifacts/swagger-ui.png', import.meta.url).pathname
const EXAMPLE_ID = '150621256807'
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'
]

describe('Swagger UI at /docs', () => {
  it(`exports the example project with the first example via "Try it out" and Execute${SKIP_REASON === undefined ? '' : ` (skipped: ${SKIP_REASON})`}`, { timeout: 180_000 }, async (context) => {
    if (CHROMIUM === undefined) return context.skip(SKIP_REASON)

    const { origin, client } = await startServer({}, { catalog: new KilnProjects(EXAMPLE_PROJECT_DIR) })
    // A fresh profile (--user-data-dir) for every run: no cache, no state from an earlier run.
    const profile = await mkdtemp(join(tmpdir(), 'kiln-export-chromium-'))
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
      viewport: { width: 1280, height: 1000 }
    })
    onTestFinished(async () => {
      await browser.close()
      await rm(profile, { recursive: true, force: true })
    })
    const page = browser.pages()[0] ?? await browser.newPage()
    page.setDefaultTimeout(60_000)

    await page.goto(`${origin}/docs`)
    const operation = page.locator('#operations-datasets-exportDataset')
    await operation.locator('.opblock-summary').click()

    // "Try it out": the UI is configured with tryItOutEnabled, so the button may already read "Cancel".
    const tryOut = operation.locator('button.try-out__btn')
    if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click()
    await expect.poll(async () => (await tryOut.textContent())?.trim()).toBe('Cancel')

    // The path id and the first request-body example are prefilled: a mounted export of the example project.
    expect(await operation.locator('tr[data-param-name="id"] input').inputValue()).toBe(EXAMPLE_ID)
    const requestBody = JSON.parse(await operation.locator('textarea.body-param__text').inputValue()) as Record<string, unknown>
    expect(requestBody).toEqual({
      split_name: 'train',
      format: 'openai_chat_json_schema_jsonl',
      data_strategy: 'final_and_intermediate',
      system_message: 'Write a one-line joke about the topic.',
      thinking_instructions: 'Brainstorm three angles first.'
    })

    // The examples are named after what they show; no lock icon without API_TOKEN.
    const exampleNames = await operation.locator('.opblock-section-request-body .examples-select select option').allInnerTexts()
    expect(exampleNames.map((n) => n.trim())).toEqual([
      'Mounted: the example project\'s train split (Jokes v1), with chain of thought',
      'Inline: two support replies sent in the body',
      'Inline: Amazon Bedrock (Nova) conversation record with chain of thought (consecutive user turns share one message)',
      'Inline: the thinking in reasoning_content beside the answer (reasoning models on Fireworks and Together)',
      'Inline: preference (DPO) pairs from a repair and two rated runs (pair_by rating)'
    ])
    expect(await operation.locator('.authorization__btn').count()).toBe(0)
    // The documented responses: a real JSONL line for 200, and each error status with its own body.
    const documented = operation.locator('.responses-wrapper table.responses-table').first()
    const successExample = await documented.locator('tr.response[data-code="200"]').innerText()
    expect(successExample).toContain('Why did the baker go to therapy?')
    expect(await documented.locator('tr.response[data-code="404"]').innerText()).toContain('KEX_SPLIT_NOT_FOUND')
    expect(await documented.locator('tr.response[data-code="415"]').innerText()).toContain('KEX_UNSUPPORTED_MEDIA_TYPE')
    // The allowed values of format and data_strategy, and the R1 strategy's <think> tags, in the body's schema.
    await operation.locator('.opblock-section-request-body button', { hasText: 'Schema' }).click()
    // OpenAPI 3.1: Swagger UI's JSON Schema 2020-12 view, expanded with its "Expand all" button.
    const model = operation.locator('.opblock-section-request-body')
    for (const name of ['format', 'data_strategy']) {
      await model.locator('.json-schema-2020-12-property', { hasText: name }).locator('button.json-schema-2020-12-accordion').first().click()
    }
    await expect.poll(async () => model.innerText(), { timeout: 10_000 }).toContain('One of: ')
    const schemaText = await model.innerText()
    expect(schemaText).toContain('<think>')
    expect(schemaText).toContain(`One of: ${DATA_STRATEGIES.join(', ')}.`)
    expect(schemaText).toContain('Output format: one of openai_chat_jsonl, ')
    await operation.locator('.opblock-section-request-body button.tablinks[data-name="example"]').click()

    await operation.locator('button.execute').click()
    const response = operation.locator('.live-responses-table tbody tr.response')
    await expect.poll(async () => (await response.locator('.response-col_status').textContent())?.trim()).toBe('200')
    const headers = await response.locator('.response-col_description pre.microlight').innerText()
    expect(headers).toContain('content-type: application/jsonl; charset=utf-8')
    expect(headers).toContain('x-export-line-count: 6')

    // Swagger UI shows an attachment as a "Download file" link to the body: download it as a person would.
    const link = response.locator('a', { hasText: 'Download file' })
    await link.scrollIntoViewIfNeeded()
    await mkdir(dirname(SCREENSHOT), { recursive: true })
    // The export operation as a person sees it, from its title to the 200 answer (not the schemas below).
    const scrollY = await page.evaluate<number>('window.scrollY')
    const top = ((await operation.boundingBox())?.y ?? 0) + scrollY
    const answer = await response.boundingBox()
    const bottom = (answer === null ? top + 1000 : answer.y + answer.height) + scrollY
    await page.screenshot({ path: SCREENSHOT, fullPage: true, clip: { x: 0, y: Math.max(0, top - 10), width: 1280, height: bottom - top + 30 } })
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    expect(download.suggestedFilename()).toBe('Jokes v1 -- split-train -- format-openai_chat_json_schema_jsonl -- cot.jsonl')
    const path = await download.path()
    const jsonl = await readFile(path, 'utf8')

    // The JSONL text: 6 lines, each a JSON object, the bytes the API sends for the same request.
    const lines = jsonl.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(6)
    for (const line of lines) expect(Object.keys(JSON.parse(line) as object)).toEqual(['messages'])
    const api = await postJson(client, `/datasets/${EXAMPLE_ID}/export`, requestBody)
    expect(jsonl).toBe(api.text)
  })
})
