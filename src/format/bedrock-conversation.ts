import { FormatError } from './errors.js'
import { type PyDumpable } from './python-json.js'
import { TEXT_STRATEGIES } from './strategies.js'
import { type SftFormatGenerator, type TrainingChat } from './types.js'

/*
 * Amazon Bedrock's conversation format for Amazon Nova fine-tuning (not a Kiln format):
 * `{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": S}], "messages": [...]}`, each
 * message `{"role": "user" | "assistant", "content": [{"text": ...}]}`, first user, last assistant.
 * @see https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
 *
 * - Bedrock wants user and assistant turns to alternate (AWS's validator checks even index user,
 *   odd index assistant). Where the chat formats write two user turns in a row (final_and_intermediate:
 *   the input, then the thinking instructions), they become ONE message with one `{"text"}` block
 *   per turn, in order: a message's `content` is a list of blocks, so nothing is joined or lost.
 * - The system message is always written, as Kiln writes it in every format, even when it is "":
 *   `system` is optional, and AWS's validator accepts an empty system text (it refuses only empty
 *   message text). Leaving it out would change the line for one value of a request field.
 * - Trace tool calls are refused per run: Nova fine-tuning takes no tools ("Tool usage ... is not
 *   currently supported by Amazon Nova 2.0 SFT. Adding tool sections might cause your job to fail",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html). Dropping them
 *   silently would train on a chat the model never had; the error says how to leave them out.
 */

/** Bedrock's schema version for conversation records (any string is accepted; this is AWS's). */
export const BEDROCK_SCHEMA_VERSION = 'bedrock-conversation-2024'

/** Our refusal of a run whose trace has tool calls, for Bedrock's format. */
export const BEDROCK_TOOL_CALLS_NOT_SUPPORTED =
  'The run\'s trace has tool calls, which Amazon Nova fine-tuning does not support: send "include_tool_calls": false to export the run without them (or use a format that carries tool calls)'

type Role = 'user' | 'assistant'

/** The `messages` of a chat: its text turns then the answer, consecutive turns of one role in one message. */
function bedrockMessages (chat: TrainingChat): PyDumpable[] {
  const turns: Array<{ role: Role, content: string }> = []
  for (const message of chat.messages) {
    if (message.kind !== 'text') throw new FormatError('TOOL_CALLS_NOT_SUPPORTED', BEDROCK_TOOL_CALLS_NOT_SUPPORTED)
    turns.push({ role: message.role, content: message.content })
  }
  turns.push({ role: 'assistant', content: chat.finalPrefix + chat.finalOutput })
  const messages: Array<{ role: Role, content: Array<{ text: string }> }> = []
  for (const turn of turns) {
    const last = messages.at(-1)
    if (last?.role === turn.role) last.content.push({ text: turn.content })
    else messages.push({ role: turn.role, content: [{ text: turn.content }] })
  }
  return messages
}

/** `bedrock_conversation_jsonl`: Amazon Bedrock conversation records for Amazon Nova fine-tuning; the output is not parsed. */
export const bedrockConversation: SftFormatGenerator = {
  kind: 'sft',
  description: 'Amazon Bedrock (Nova) fine-tuning: {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": ...}], "messages": [...]}, user/assistant turns alternating.',
  parsesOutput: false,
  strategies: TEXT_STRATEGIES,
  carriesTools: false,
  lineShape: 'bedrock_messages',
  defaultProfile: 'bedrock_nova',
  generate: (chat) => ({
    schemaVersion: BEDROCK_SCHEMA_VERSION,
    system: [{ text: chat.systemMessage }],
    messages: bedrockMessages(chat)
  })
}
