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

/**
 * Command outcomes by id, so a re-delivered command returns its stored result and never runs
 * twice. `started` is recorded before a verb touches a camera: a command found started but not
 * finished (the agent died mid-run) is reported as interrupted, never re-run.
 */
export interface ResultStore {
  get(commandId: string): StoredResult | 'started' | undefined;
  markStarted(commandId: string): Promise<void>;
  finish(result: StoredResult): Promise<void>;
  close(): Promise<void>;
}
