import { type PyDumpable } from './python-json.js'
import { type DataStrategy } from './strategies.js'

/**
 * The fine-tuning providers whose lines the formats write, named as the validation report's
 * provider profiles. The names live in the core so a format can name its provider (a checked
 * fact on its registry entry); validate/ keeps one `Record<ProviderProfileName, ...>` table of each
 * profile's rules and the data files hold the numbers.
 */
export const PROVIDER_PROFILES = ['openai', 'vertex_gemini', 'huggingface', 'fireworks', 'together', 'bedrock_nova'] as const

/** A provider profile name. */
export type ProviderProfileName = typeof PROVIDER_PROFILES[number]

/**
 * Where an exported line keeps its chat, for code that reads lines back (the validation report's
 * token count): `messages` (OpenAI), `conversations` (Hugging Face), `systemInstruction` +
 * `contents` (Vertex), `system` + `messages` with `{"text"}` blocks (Amazon Bedrock).
 */
export type LineShape =
  | 'openai_messages' | 'huggingface_conversations' | 'vertex_contents'
  /** Preference lines: OpenAI DPO `input.messages` + `preferred_output` + `non_preferred_output`. */
  | 'openai_preference'
  /** TRL's conversational preference type: `prompt` + `chosen` + `rejected`. */
  | 'huggingface_preference'
  /** Vertex preference tuning: `system_instruction` + `contents` + `completions`. */
  | 'vertex_preference'
  /** Amazon Bedrock's conversation records: `system` + `messages` of content blocks. */
  | 'bedrock_messages'

/** The part of a Kiln run config the exporter reads: the tools a Kiln agent run could call. */
export interface RunConfigData {
  /** `kiln_agent` (also when absent, as in Kiln) or `mcp`; only agent configs list tools. */
  readonly type?: string
  readonly tools_config?: { readonly tools?: readonly string[] } | null
}

/** The part of a Kiln TaskOutput the formatter reads. */
export interface TaskOutputData {
  readonly output: string
  /** Where the output came from; its run config names the tools (Kiln HEAD's `tools` source). */
  readonly source?: { readonly run_config?: RunConfigData | null } | null
}

/**
 * The fields of a Kiln TaskRun that the formatter reads (spec 7.4).
 * Sources may hand over the whole parsed object; other fields are ignored.
 */
export interface TaskRunData {
  readonly id: string
  readonly input: string
  readonly output: TaskOutputData
  readonly repaired_output?: TaskOutputData | null
  readonly intermediate_outputs?: Readonly<Record<string, string>> | null
  /** A saved conversation (OpenAI chat messages): its tool calls are exported unless `include_tool_calls` is false. */
  readonly trace?: readonly TraceMessage[] | null
  /** Set on runs an eval generated: Kiln HEAD hides them from fine-tune data (the report warns). */
  readonly eval_source?: unknown
  /** The run this one continues (multi-turn): Kiln HEAD hides the parent from fine-tune data. */
  readonly parent_task_run_id?: string | null
}

/** One message of a run's trace, as OpenAI chat messages are shaped; other fields are ignored. */
export interface TraceMessage {
  readonly role: string
  readonly content?: unknown
  readonly tool_calls?: unknown
  readonly tool_call_id?: unknown
}

/**
 * The run ids of one split, in export order: a plain array (inline bodies), or a compact list that
 * keeps a large split's ids off the JavaScript heap (mounted projects, CompactRunIds).
 */
export interface RunIdList extends Iterable<string> {
  readonly length: number
  /** The ids from `start` to `end` (exclusive), as a list of the same kind. */
  slice (start?: number, end?: number): RunIdList
}

/** The part of a Kiln DatasetSplit the formatter reads. */
export interface DatasetSplitData {
  readonly id: string
  readonly name: string
  readonly split_contents: Readonly<Record<string, RunIdList>>
}

/** Kiln's ModelTrainingData: one example before it is shaped into a provider format. */
export interface TrainingData {
  readonly input: string
  readonly systemMessage: string
  readonly finalOutput: string
  readonly thinking: string | null
  readonly thinkingInstructions: string | null
  readonly thinkingFinalAnswerPrompt: string | null
}

/** A message of a training chat, between the system message and the final answer. */
export type ChatMessage =
  | { readonly kind: 'text', readonly role: 'user' | 'assistant', readonly content: string }
  /** An assistant turn calling tools (from a trace); `content` is its text, if any. */
  | { readonly kind: 'tool_call', readonly content: string | null, readonly toolCalls: readonly PyDumpable[] }
  /** A tool's answer (from a trace). */
  | { readonly kind: 'tool_response', readonly content: string, readonly toolCallId: string }

/** One example, format-neutral: what every generator shapes into its provider's line. */
export interface TrainingChat {
  readonly systemMessage: string
  /** The user turn(s), any trace tool calls and chain-of-thought turns, in order. */
  readonly messages: readonly ChatMessage[]
  /** The final answer as stored (the repaired output when there is one). */
  readonly finalOutput: string
  /** Text before the final answer in the same message (the R1 `<think>` block), or ''. */
  readonly finalPrefix: string
  /**
   * The thinking that goes beside the final answer, in a field of its own (`reasoning_content`,
   * strategy final_and_intermediate_reasoning_field), or null. Only formats that list that strategy
   * write it; checkExportOptions refuses the others before any run is read.
   */
  readonly finalReasoning: string | null
  /**
   * How the formats that parse the answer treat it: `seed` (Kiln's February 2025 formatter: the
   * output alone, any JSON value, the seed's messages) or `chat` (Kiln's chat formatter, used by the
   * later strategies: the whole last message, a JSON object, the later messages).
   */
  readonly outputRules: 'seed' | 'chat'
  /** Tool (function) definitions sent with the request, for the formats that carry them. */
  readonly tools: readonly PyDumpable[] | null
}

/** What every format says about itself, SFT or preference. */
interface FormatFacts {
  /** One line for `GET /formats` and the OpenAPI description. */
  readonly description: string
  /** True when the format parses the final output as JSON (and so can reject it). */
  readonly parsesOutput: boolean
  /** The data strategies the format accepts. */
  readonly strategies: readonly DataStrategy[]
  /** True when lines carry tool definitions (`tools`, Vertex `functionDeclarations`); Kiln's HF formats never do. */
  readonly carriesTools: boolean
  /** Where the line keeps its chat (read back by the validation report). */
  readonly lineShape: LineShape
  /** The provider profile a validation checks these lines against when the request names none. */
  readonly defaultProfile: ProviderProfileName
}

/** A supervised fine-tuning format: one run, one example. */
export interface SftFormatGenerator extends FormatFacts {
  readonly kind: 'sft'
  /** Shapes one example into the object written as one JSONL line; may throw FormatError. */
  readonly generate: (chat: TrainingChat, context: GenerateContext) => PyDumpable
}

/** One preference (DPO) example, format-neutral: a prompt and two answers to it. */
export interface PreferencePair {
  readonly systemMessage: string
  readonly input: string
  /** The preferred answer as written: stored text, or re-serialised JSON for a structured task. */
  readonly preferred: string
  readonly nonPreferred: string
  /** Tool definitions (request, else run config), for the formats that carry them. */
  readonly tools: readonly PyDumpable[] | null
}

/** A preference (DPO) format: a pair of answers to one prompt per line (preference-pairs.ts makes the pairs). */
export interface PreferenceFormatGenerator extends FormatFacts {
  readonly kind: 'preference'
  /** Shapes one pair into the object written as one JSONL line. */
  readonly generate: (pair: PreferencePair) => PyDumpable
}

/** A provider format: SFT or preference, told apart by `kind` so the compiler keeps their generators apart. */
export type FormatGenerator = SftFormatGenerator | PreferenceFormatGenerator

/** Per-export services a generator may need, injected so the core stays pure and testable. */
export interface GenerateContext {
  /** Kiln's random HF tool-call id: 9 lowercase hex characters. */
  readonly randomToolCallId: () => string
}
