import type {
  CommandAckMessageSchema,
  CommandMessageSchema,
  CommandProgressMessageSchema,
  CommandResultMessageSchema,
} from '@custody/core';
import type { z } from 'zod';

type Envelope = 'v' | 'id' | 'type' | 'sentAt';

/** A server `command` message as the link hands it over: the payload still raw. */
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

export type CommandAckBody = { type: 'command-ack' } & Omit<
  z.infer<typeof CommandAckMessageSchema>,
  Envelope
>;
export type CommandProgressBody = { type: 'command-progress' } & Omit<
  z.infer<typeof CommandProgressMessageSchema>,
  Envelope
>;
export type CommandResultBody = { type: 'command-result' } & Omit<
  z.infer<typeof CommandResultMessageSchema>,
  Envelope
>;

/** What the executor hands to the durable outbox; the caller adds the envelope. */
export type CommandReport = CommandAckBody | CommandProgressBody | CommandResultBody;

export type CommandOutcome = CommandResultBody['outcome'];

/** The limits of the protocol's text fields, so a long device message never breaks a frame. */
export const MAX_STEP_LENGTH = 100;
export const MAX_MESSAGE_LENGTH = 2_000;

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
