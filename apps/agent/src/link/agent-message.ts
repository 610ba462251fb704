import { randomUUID } from 'node:crypto';
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
  options: { v?: number; now?: Date } = {},
): AgentMessageOf<T> {
  return {
    v: options.v ?? PROTOCOL_VERSION,
    id: randomUUID(),
    type,
    sentAt: (options.now ?? new Date()).toISOString(),
    ...body,
  } as AgentMessageOf<T>;
}

export function isDurableAgentMessage(message: AgentMessage): message is DurableAgentMessage {
  return (DURABLE_AGENT_MESSAGE_TYPES as readonly string[]).includes(message.type);
}
