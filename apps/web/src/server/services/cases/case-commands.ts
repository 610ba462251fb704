import { and, eq, isNull } from 'drizzle-orm';
import { DomainError, type CommandVerb } from '@custody/core';
import * as schema from '@custody/db/schema';
import { queueCommand } from '../../gateway/queue-command.ts';
import type { Executor } from '../executor.ts';
import type { CaseCommandPurpose, CaseCommandRef, CaseDetails, CaseRecord } from './case-store.ts';

const { agents, cameras } = schema;

/** The agent that reports the camera, if it may be given commands. */
export async function agentForCamera(tx: Executor, record: CaseRecord): Promise<string> {
  const [row] = await tx
    .select({ agentId: agents.id })
    .from(cameras)
    .innerJoin(agents, eq(agents.id, cameras.agentId))
    .where(
      and(
        eq(cameras.serial, record.serial),
        eq(agents.siteId, record.siteId),
        isNull(agents.revokedAt),
      ),
    );
  if (row === undefined) {
    throw new DomainError(
      'invalid-input',
      `No agent of this site reports camera ${record.serial}; enroll one or wait for it to find the camera.`,
      { details: { serial: record.serial } },
    );
  }
  return row.agentId;
}

export interface CaseCommandInput {
  purpose: CaseCommandPurpose;
  verb: CommandVerb;
  params: Record<string, unknown>;
  /** Credential reference → `credential:<id>` or `candidate:<id>`. */
  secretsRef?: Readonly<Record<string, string>> | undefined;
  approvalGrantId?: string | null | undefined;
  /** The agent to use; by default the one that reports the camera. */
  agentId?: string | undefined;
  /** The user who asked; null for steps the engine takes on its own. */
  requestedBy: string | null;
  ttlMs?: number | undefined;
  /** The `enteredRevision` of the state the command belongs to. */
  stateRevision: number;
}

/**
 * Queues a command for the case inside `tx` (so it is sent only if the case change commits) and
 * returns the reference the case keeps. The caller records it in the case's details.
 */
export async function queueCaseCommand(
  tx: Executor,
  record: CaseRecord,
  input: CaseCommandInput,
): Promise<CaseCommandRef> {
  const agentId = input.agentId ?? (await agentForCamera(tx, record));
  // queueCommand opens a transaction of its own; on a transaction that is a savepoint.
  const queued = await queueCommand(tx, {
    agentId,
    serial: record.serial,
    verb: input.verb,
    params: input.params,
    secretsRef: input.secretsRef,
    approvalGrantId: input.approvalGrantId ?? null,
    requestedBy: input.requestedBy,
    caseId: record.id,
    ttlMs: input.ttlMs,
  });
  return {
    id: queued.commandId,
    verb: input.verb,
    purpose: input.purpose,
    queuedAt: new Date().toISOString(),
    appliedAt: null,
    outcome: null,
    stateRevision: input.stateRevision,
  };
}

export function withCommand(details: CaseDetails, ref: CaseCommandRef): CaseDetails {
  return { ...details, commands: [...details.commands, ref] };
}

export function markApplied(
  details: CaseDetails,
  commandId: string,
  outcome: string,
  at: Date = new Date(),
): CaseDetails {
  return {
    ...details,
    commands: details.commands.map((ref) =>
      ref.id === commandId ? { ...ref, appliedAt: at.toISOString(), outcome } : ref,
    ),
  };
}

export function inFlight(details: CaseDetails, purposes: readonly CaseCommandPurpose[]) {
  return details.commands.filter((ref) => ref.appliedAt === null && purposes.includes(ref.purpose));
}

/** A secretsRef value for a credential origin. */
export function entryOf(origin: { source: 'vault' | 'candidate'; id: string }): string {
  return `${origin.source === 'vault' ? 'credential' : 'candidate'}:${origin.id}`;
}
