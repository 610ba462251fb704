import { createHash, randomUUID } from 'node:crypto';
import {
  DURABLE_AGENT_MESSAGE_TYPES,
  PROTOCOL_VERSION,
  type AgentMessage,
  type AgentMessageType,
} from '@custody/core';

export type AgentMessageOf<T extends AgentMessageType> = Extract<AgentMessage, { type: T }>;
export type AgentMessageBody<T extends AgentMessageType> = Omit<
  AgentMessageOf<T>,
  'v' | 'id' | 'type' | 'sentAt'
>;

export type DurableAgentMessageType = (typeof DURABLE_AGENT_MESSAGE_TYPES)[number];
/** Messages that go through the outbox and are acknowledged by the gateway. */
export type DurableAgentMessage = AgentMessageOf<DurableAgentMessageType>;
/** Messages sent at most once, on the current connection only. */
export type TransientAgentMessage = AgentMessageOf<'heartbeat' | 'error'>;

/**
 * A new agent message with its envelope: a fresh id (kept through every replay, so the gateway can
 * drop duplicates), the protocol version and the time it was made.
 */
export function createAgentMessage<T extends AgentMessageType>(
  type: T,
  body: AgentMessageBody<T>,
  options: { v?: number; now?: Date; id?: string } = {},
): AgentMessageOf<T> {
  return {
    v: options.v ?? PROTOCOL_VERSION,
    id: options.id ?? randomUUID(),
    type,
    sentAt: (options.now ?? new Date()).toISOString(),
    ...body,
  } as AgentMessageOf<T>;
}

export function isDurableAgentMessage(message: AgentMessage): message is DurableAgentMessage {
  return (DURABLE_AGENT_MESSAGE_TYPES as readonly string[]).includes(message.type);
}

/**
 * The message id of a command's stored result, derived from the command id (a UUIDv8 over its
 * SHA-256). A result queued again after a crash, because the agent could not tell whether the
 * first one reached the outbox, then carries the same id, and the server drops it as a duplicate.
 */
export function commandResultMessageId(commandId: string): string {
  const bytes = createHash('sha256').update(`custody-command-result\n${commandId}`).digest();
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
