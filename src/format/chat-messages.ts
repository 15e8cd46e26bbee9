import { type PyDumpable } from './python-json.js'
import { type ChatMessage, type TrainingChat } from './types.js'

/** One `{"role", "content"}` message, keys in Kiln's order. */
export function message (role: string, content: string | null): PyDumpable {
  return { role, content }
}

/**
 * A chat message in OpenAI's shape (Kiln's `generate_chat_message_list`). An assistant tool call
 * gets `""` rather than null content: Fireworks rejects null there.
 */
export function openaiMessage (chatMessage: ChatMessage): PyDumpable {
  switch (chatMessage.kind) {
    case 'text':
      return message(chatMessage.role, chatMessage.content)
    case 'tool_call':
      return { role: 'assistant', content: chatMessage.content ?? '', tool_calls: chatMessage.toolCalls }
    case 'tool_response':
      return { role: 'tool', content: chatMessage.content, tool_call_id: chatMessage.toolCallId }
  }
}

/**
 * The final assistant message of the OpenAI formats: `fields` (role, content, and the tool-call
 * format's tool_calls), then `reasoning_content` when the chat carries its thinking in a field
 * (final_and_intermediate_reasoning_field), last, as Fireworks' example writes it:
 * `{"role": "assistant", "content": "4", "reasoning_content": "..."}`.
 * @see https://fireworks.ai/docs/updates/changelog (2025-08-22)
 * @see https://docs.together.ai/docs/fine-tuning/reasoning
 */
export function finalAssistantMessage (chat: TrainingChat, fields: { readonly role: 'assistant', readonly content: string | null, readonly [key: string]: PyDumpable }): PyDumpable {
  return chat.finalReasoning === null ? { ...fields } : { ...fields, reasoning_content: chat.finalReasoning }
}

/** The OpenAI/Hugging Face message list: system, the chat's messages, then the given final message. */
export function chatMessages (chat: TrainingChat, finalMessage: PyDumpable): PyDumpable[] {
  return [message('system', chat.systemMessage), ...chat.messages.map(openaiMessage), finalMessage]
}

/** An OpenAI line: `{"messages": [...]}`, plus `"tools"` when the request sent definitions. */
export function openaiLine (chat: TrainingChat, finalMessage: PyDumpable): PyDumpable {
  const messages = chatMessages(chat, finalMessage)
  return chat.tools === null ? { messages } : { messages, tools: chat.tools }
}
