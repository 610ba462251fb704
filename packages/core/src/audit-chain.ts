import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './sha256.ts';
import type { AuditEvent, AuditEventContent } from './schemas/audit-event.ts';

/** The `prevHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 hex of the canonical JSON of `{ prev, content }`: each link commits to the one before. */
export function hashAuditEvent(content: AuditEventContent, prevHash: string): string {
  return sha256Hex(canonicalJson({ prev: prevHash, content }));
}

/** Builds the event that follows `previous` (or starts a chain); the database stores it as is. */
export function createAuditEvent(
  content: AuditEventContent,
  previous?: Pick<AuditEvent, 'seq' | 'hash'>,
): AuditEvent {
  const prevHash = previous?.hash ?? GENESIS_HASH;
  return {
    seq: previous === undefined ? 0 : previous.seq + 1,
    prevHash,
    hash: hashAuditEvent(content, prevHash),
    content,
  };
}

export function appendAuditEvent(
  chain: readonly AuditEvent[],
  content: AuditEventContent,
): AuditEvent[] {
  return [...chain, createAuditEvent(content, chain.at(-1))];
}

export const AUDIT_CHAIN_BREAKS = [
  'sequence-gap',
  'prev-hash-mismatch',
  'hash-mismatch',
  'unhashable',
] as const;
export type AuditChainBreak = (typeof AUDIT_CHAIN_BREAKS)[number];

export type AuditChainVerification =
  | { ok: true; length: number; headHash: string }
  | { ok: false; brokenAt: number; code: AuditChainBreak; reason: string };

export interface VerifyAuditChainOptions {
  /**
   * Hash and sequence the first event must follow. Defaults to the genesis; pass the last trusted
   * event to verify a page of a longer chain.
   */
  anchor?: Pick<AuditEvent, 'seq' | 'hash'>;
}

/**
 * Recomputes every link and reports the first one that does not hold. `brokenAt` is an index into
 * `events`: editing an event's content or hash breaks that event; editing its prevHash breaks it;
 * deleting or reordering events breaks the first event whose predecessor changed.
 */
export function verifyAuditChain(
  events: readonly AuditEvent[],
  options: VerifyAuditChainOptions = {},
): AuditChainVerification {
  let expectedPrev = options.anchor?.hash ?? GENESIS_HASH;
  let expectedSeq = options.anchor === undefined ? 0 : options.anchor.seq + 1;

  for (const [index, event] of events.entries()) {
    if (event.seq !== expectedSeq) {
      return {
        ok: false,
        brokenAt: index,
        code: 'sequence-gap',
        reason: `Event ${index} has sequence ${event.seq}, expected ${expectedSeq}: an event is missing, duplicated or out of order.`,
      };
    }
    if (event.prevHash !== expectedPrev) {
      return {
        ok: false,
        brokenAt: index,
        code: 'prev-hash-mismatch',
        reason: `Event ${index} (seq ${event.seq}) does not link to the event before it.`,
      };
    }
    let recomputed: string;
    try {
      recomputed = hashAuditEvent(event.content, event.prevHash);
    } catch (error) {
      return {
        ok: false,
        brokenAt: index,
        code: 'unhashable',
        reason: `Event ${index} (seq ${event.seq}) cannot be hashed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (recomputed !== event.hash) {
      return {
        ok: false,
        brokenAt: index,
        code: 'hash-mismatch',
        reason: `Event ${index} (seq ${event.seq}) does not match its hash: its content or hash was altered.`,
      };
    }
    expectedPrev = event.hash;
    expectedSeq = event.seq + 1;
  }
  return { ok: true, length: events.length, headHash: expectedPrev };
}
