import type { AgentMessageType } from '@custody/core';

export const STORE_ERROR_CODES = [
  /** A file this agent did not write as it is: bad JSON, a failed schema, an unknown format. */
  'file-malformed',
  /** The identity file is open to group or others; like ssh, the agent refuses to use it. */
  'file-insecure',
  /** A record the store refuses to write because it would not read back. */
  'invalid-record',
  /** A write or fsync failed; the operation did not happen and the store is still usable. */
  'write-failed',
  /** A failure the store could not undo; every later call fails until it is reopened. */
  'store-broken',
  'store-closed',
  /** The outbox is full of messages its size policy never drops. */
  'outbox-full',
  /** A message type the server does not acknowledge, so the outbox could never let it go. */
  'not-durable',
] as const;

export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export interface StoreErrorOptions {
  /** The file or directory concerned. */
  path?: string;
  cause?: unknown;
}

/**
 * The one error class of the agent's on-disk stores. Messages name the file but never quote its
 * content: the identity file holds the private key.
 */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: StoreErrorCode;
  readonly path: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

export class OutboxFullError extends StoreError {
  override readonly name = 'OutboxFullError';
  declare readonly code: 'outbox-full';
  /** The type of the message that did not fit. */
  readonly messageType: AgentMessageType;

  constructor(messageType: AgentMessageType, message: string, options: StoreErrorOptions = {}) {
    super('outbox-full', message, options);
    this.messageType = messageType;
  }
}

export function isStoreError(value: unknown, code?: StoreErrorCode): value is StoreError {
  return value instanceof StoreError && (code === undefined || value.code === code);
}
