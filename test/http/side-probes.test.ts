import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KilnProjects } from '../../src/source/mounted/kiln-projects.js'
import { loadSideProbes, mountSideProbes, type SideProbes } from '../helpers/head-conformance.js'
import { listen, postJson, type TestServer } from '../helpers/server.js'

/*
 * Kiln HEAD's side probes (head/side_probes.json): tool calls from traces, tool definitions from
 * run configs, the <conversation_history> input, multi-turn and eval-generated runs. Replayed
 * inline and mounted, with the request's `tools` (as the probes' README says) and without them
 * (then the built-in `add` tool is resolved from each run's run config, as Kiln does).
 */

const probes = loadSideProbes()
type Variant = SideProbes['variants'][string]
let inline: TestServer & { close: () => Promise<void> }
let mounted: TestServer & { close: () => Promise<void> }
let cleanup: () => void = () => {}
beforeAll(async () => {
  inline = await listen()
  const project = mountSideProbes(probes)
  cleanup = project.cleanup
  mounted = await listen({}, { catalog: new KilnProjects(project.root), exportTuning: { bufferBytes: 0 } })
})
afterAll(async () => {
  await inline.close()
  await mounted.close()
  cleanup()
})

function body (variant: Variant, key: string, withTools: boolean, isInline: boolean): Record<string, unknown> {
  const [format, strategy] = key.split('__') as [string, string]
  return {
    split_name: 'all',
    format,
    data_strategy: strategy,
    system_message: probes.system_message,
    thinking_instructions: probes.thinking_instructions[strategy] ?? null,
    ...(withTools && variant.request_tools !== null ? { tools: variant.request_tools } : {}),
    ...(isInline ? { task: probes.task, dataset_split: variant.dataset_split, task_runs: probes.task_runs } : {})
  }
}

const plain = probes.variants.plain
if (plain === undefined) throw new Error('no plain variant')

for (const [mode, isInline] of [['inline', true], ['mounted', false]] as const) {
  for (const withTools of [true, false]) {
    describe(`side probes, ${mode}, ${withTools ? 'with the request\'s tools' : 'tools from the run config'}`, () => {
      for (const [name, variant] of Object.entries(probes.variants)) {
        if (variant.kiln_export === 'not_replayed') continue
        // Hidden runs: Kiln HEAD refuses them as missing; we export them like the plain run.
        const results = variant.kiln_export === 'differs' ? plain.results : variant.results
        for (const [key, expected] of Object.entries(results)) {
          it(`${name}: ${key}`, async () => {
            const server = isInline ? inline : mounted
            const answer = await postJson(server.client, `/datasets/${variant.dataset_split.id}/export`, body(variant, key, withTools, isInline))
            if (expected.result === 'ok') {
              expect(answer.status, answer.text.slice(0, 400)).toBe(200)
              expect(probes.mask(answer.text)).toBe(probes.mask(expected.line))
            } else {
              expect(answer.status, answer.text.slice(0, 400)).toBe(422)
              expect((answer.json() as { message: string }).message).toContain(expected.message)
            }
          })
        }
      }
    })
  }
}

describe('a run config naming a tool we cannot resolve (side probe unresolvable_tool)', () => {
  const variant = probes.variants.unresolvable_tool
  if (variant === undefined) throw new Error('no unresolvable_tool variant')
  for (const [mode, isInline] of [['inline', true], ['mounted', false]] as const) {
    it(`${mode}: 422 naming the tool id and asking for "tools" where lines carry tools; HF formats export`, async () => {
      const server = isInline ? inline : mounted
      const toolIds = (variant.results.openai_chat_jsonl__final_only as { message: string }).message.match(/tool ID '([^']+)'/)?.[1]
      expect(toolIds).toBeTruthy()
      for (const format of ['openai_chat_jsonl', 'openai_chat_toolcall_jsonl', 'vertex_gemini']) {
        const answer = await postJson(server.client, `/datasets/${variant.dataset_split.id}/export`, body(variant, `${format}__final_only`, false, isInline))
        expect(answer.status).toBe(422)
        const error = answer.json() as { code: string, message: string, run_ids: string[] }
        expect(error.code).toBe('KEX_TOOL_NOT_RESOLVABLE')
        expect(error.message).toContain(`Failed to get tool definition for tool ID '${String(toolIds)}'`)
        expect(error.message).toContain('"tools"')
        expect(error.run_ids).toEqual([variant.run_id])
      }
      const hf = await postJson(server.client, `/datasets/${variant.dataset_split.id}/export`, body(variant, 'huggingface_chat_template_jsonl__final_only', false, isInline))
      expect(hf.status).toBe(200)
      // With the request's tools nothing is resolved: the lines carry those.
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }]
      const sent = await postJson(server.client, `/datasets/${variant.dataset_split.id}/export`, { ...body(variant, 'openai_chat_jsonl__final_only', false, isInline), tools })
      expect(sent.status).toBe(200)
      expect(sent.text).toContain('"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]}\n')
    })
  }
})
