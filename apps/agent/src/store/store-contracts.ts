import type { AgentMessage } from '@custody/core';

/** What enrollment leaves in the agent's data directory (identity.json, mode 0600). */
export interface AgentIdentity {
  agentId: string;
  siteId: string;
  gatewayUrl: string;
  /** The server's command-signing key (base64 SPKI); the agent trusts no other. */
  commandSigningKey: string;
  /** This agent's public key (base64 SPKI) as registered. */
  publicKey: string;
  /** PKCS#8 PEM. Never leaves the identity file and this process's memory. */
  privateKeyPem: string;
  enrolledAt: string;
}

/**
 * The durable outbox: messages the server must see exactly once, journaled (fsync) before they
 * are sent, replayed in order after a reconnect or a crash, dropped when the server acks them.
 */
export interface Outbox {
  /** Resolves once the message is on disk (fsync). */
  append(message: AgentMessage): Promise<void>;
  /** Unacknowledged messages in the order they were appended. */
  pending(): readonly AgentMessage[];
  /** Drops acknowledged messages; unknown ids are ignored. */
  acknowledge(ids: readonly string[]): Promise<void>;
  readonly depth: number;
  /** Messages dropped by the size bound since the outbox was opened (see its policy). */
  readonly dropped: number;
  close(): Promise<void>;
}

/** Command nonces seen, kept until their command expires, so a replay is refused. */
export interface NonceJournal {
  /** Records the nonce; false when it was already recorded (a replay). Durable on resolve. */
  record(nonce: string, expiresAt: Date): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoredResult {
  commandId: string;
  outcome: 'succeeded' | 'failed' | 'refused';
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  finishedAt: string;
}

/** A command the agent acknowledged but whose result has not reached the outbox yet. */
export type UnreportedCommand =
  | { state: 'accepted' | 'started'; commandId: string; serial?: string }
  | { state: 'finished'; commandId: string; result: StoredResult };

/**
 * Command outcomes by id, so a re-delivered command returns its stored result and never runs
 * twice, and an acknowledged command always ends with a result. A command is `accepted` before
 * its ack is sent and `started` before its verb touches a camera; at the next start, one found
 * accepted is reported as never run and one found started as interrupted (never re-run). A result
 * is `reported` once it is in the outbox; one stored but not reported is queued again.
 */
export interface ResultStore {
  get(commandId: string): StoredResult | 'accepted' | 'started' | undefined;
  /** Journals that the command was acknowledged; nothing happens for a known command. */
  markAccepted(commandId: string, details?: { serial?: string }): Promise<void>;
  markStarted(commandId: string): Promise<void>;
  /** The first finish wins. */
  finish(result: StoredResult): Promise<void>;
  /** The stored result is in the outbox; it is not queued again at the next start. */
  markReported(commandId: string): Promise<void>;
  /** Drops an unfinished command (refused after its ack); a finished one is kept. */
  forget(commandId: string): Promise<void>;
  /** Accepted and started commands and finished results not yet reported, oldest first. */
  unreported(): UnreportedCommand[];
  close(): Promise<void>;
}
