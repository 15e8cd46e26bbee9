import { FormatError } from './errors.js'
import { type TaskRunData } from './types.js'

/*
 * Tool definitions from a run's run config, as Kiln HEAD writes them (spec 10.7). Kiln resolves
 * each tool id of a `kiln_agent` run config (`output.source.run_config.tools_config.tools`) into an
 * OpenAI function definition. We resolve only the built-in tools whose definitions are fixed
 * facts (Kiln's `kiln_ai/tools/built_in_tools/`, commit 66cbe9d); every other id needs a live
 * MCP server, a Kiln task, a RAG index or a skill, so the request must send `tools` instead.
 */

/** An OpenAI tool definition, as Kiln's `KilnTool.toolcall_definition()` returns it. */
interface ToolDefinition {
  readonly type: 'function'
  readonly function: { readonly name: string, readonly description: string, readonly parameters: object }
}

function tool (name: string, description: string, parameters: object): ToolDefinition {
  return { type: 'function', function: { name, description, parameters } }
}

function twoNumbers (a: string, b: string): object {
  return {
    type: 'object',
    properties: { a: { type: 'number', description: a }, b: { type: 'number', description: b } },
    required: ['a', 'b']
  }
}

const LLM_PROPERTIES = {
  prompt: { type: 'string', description: 'Jinja2 prompt template rendered against `input`.' },
  model: { type: 'string', description: 'The Kiln model name to call, e.g. `gpt_4_1`.' },
  provider: { type: 'string', description: 'The Kiln model provider name to call, e.g. `openai`.' },
  input: { type: 'object', description: 'Variables made available to the prompt template.' }
}
const SYSTEM_PROMPT = { type: 'string', description: 'Optional system prompt for the model call.' }

/** Kiln's built-in tools with fixed definitions, by tool id (`KilnBuiltInToolId`). */
export const BUILT_IN_TOOLS: Readonly<Record<string, ToolDefinition>> = {
  'kiln_tool::add_numbers': tool('add', 'Add two numbers together and return the result',
    twoNumbers('The first number to add', 'The second number to add')),
  'kiln_tool::subtract_numbers': tool('subtract', 'Subtract the second number from the first number and return the result',
    twoNumbers('The first number (minuend)', 'The second number to subtract (subtrahend)')),
  'kiln_tool::multiply_numbers': tool('multiply', 'Multiply two numbers together and return the result',
    twoNumbers('The first number to multiply', 'The second number to multiply')),
  'kiln_tool::divide_numbers': tool('divide', 'Divide the first number by the second number and return the result',
    twoNumbers('The dividend (number to be divided)', 'The divisor (number to divide by)')),
  'kiln_tool::llm': tool('llm', 'Call a language model with a rendered prompt. Provide an optional JSON schema to force structured output.', {
    type: 'object',
    properties: { ...LLM_PROPERTIES, schema: { type: 'object', description: 'Optional JSON schema forcing structured output.' }, system_prompt: SYSTEM_PROMPT },
    required: ['prompt', 'model', 'provider'],
    additionalProperties: false
  }),
  'kiln_tool::llm_judge': tool('llm_judge', "Score an output with an LLM using the code judge's own scoring schema. Returns a JSON object of metric scores.", {
    type: 'object',
    properties: { ...LLM_PROPERTIES, system_prompt: SYSTEM_PROMPT },
    required: ['prompt', 'model', 'provider'],
    additionalProperties: false
  })
}

/**
 * The tool ids of a run's run config, in stored order, or [] (Kiln's `compute_tool_info` treats a
 * missing source, run config or tools config as no tools; only `kiln_agent` configs list tools).
 */
export function runToolIds (run: TaskRunData): readonly string[] {
  const config = run.output.source?.run_config
  if (config == null || (config.type !== undefined && config.type !== 'kiln_agent')) return []
  return config.tools_config?.tools ?? []
}

/** A set of tool ids as one comparable key (Kiln compares sets). */
export function toolSetKey (ids: readonly string[]): string {
  return JSON.stringify([...new Set(ids)].sort())
}

/**
 * The definitions Kiln HEAD writes for a run (null when its run config lists none), or a
 * FormatError naming every id we cannot resolve. Skills are left to the request too: Kiln merges
 * them into one definition built from the project's skill files.
 */
export function runToolDefinitions (run: TaskRunData): readonly ToolDefinition[] | null {
  const ids = runToolIds(run)
  if (ids.length === 0) return null
  const unknown = ids.filter((id) => !Object.hasOwn(BUILT_IN_TOOLS, id))
  if (unknown.length > 0) {
    const list = unknown.map((id) => `'${id}'`).join(', ')
    throw new FormatError('TOOL_NOT_RESOLVABLE',
      `Failed to get tool definition for tool ID ${list}: only Kiln's built-in tools (${Object.keys(BUILT_IN_TOOLS).join(', ')}) ` +
      'are resolved here. Send the definitions in the request\'s "tools" array (OpenAI function definitions), which then apply to every line.')
  }
  // One list per tool set, so that its conversion for the line is done once (training-chat.ts).
  const key = ids.join('\n')
  let definitions = definitionLists.get(key)
  if (definitions === undefined) {
    definitions = ids.map((id) => BUILT_IN_TOOLS[id] as ToolDefinition)
    if (definitionLists.size < MAX_TOOL_SETS) definitionLists.set(key, definitions)
  }
  return definitions
}

/** Tool sets remembered (a split normally has one; more is refused as mixed). */
const MAX_TOOL_SETS = 64
const definitionLists = new Map<string, readonly ToolDefinition[]>()
