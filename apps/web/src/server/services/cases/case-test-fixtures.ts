import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import type { World } from '../../test-support/world.ts';
import { createMasterKeyRing, generateMasterKey } from '../vault/master-keys.ts';
import { createVault, type Vault } from '../vault/vault.ts';
import { applyCaseEvent, getCase, type CaseRecord } from './case-store.ts';

// Tests only: a vault, agent results written straight into `commands`, and approvals granted
// without the approvals service (its own tests cover it).

const { approvalGrants, approvalRequests, commands } = schema;

export function testVault(): Vault {
  return createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
}

/** What the agent would report: the command finished with this result. */
export async function finishCommand(
  db: Database,
  commandId: string,
  outcome:
    | { status: 'succeeded'; result: Record<string, unknown> }
    | {
        status: 'failed';
        result?: Record<string, unknown> | null;
        error: { code: string; message: string };
      },
): Promise<void> {
  await db
    .update(commands)
    .set({
      status: outcome.status,
      result: outcome.result ?? null,
      error: outcome.status === 'failed' ? { ...outcome.error, outcome: 'failed' } : null,
      completedAt: new Date(),
    })
    .where(eq(commands.id, commandId));
}

export async function commandRow(db: Database, commandId: string) {
  const [row] = await db.select().from(commands).where(eq(commands.id, commandId));
  if (row === undefined) throw new Error(`no command ${commandId}`);
  return row;
}

/** The newest command of the case with this purpose. */
export function commandOf(record: CaseRecord, purpose: string): string {
  const ref = record.details.commands.filter((entry) => entry.purpose === purpose).at(-1);
  if (ref === undefined) throw new Error(`no ${purpose} command on the case`);
  return ref.id;
}

export async function reload(db: Database, caseId: string): Promise<CaseRecord> {
  const record = await getCase(db, caseId);
  if (record === null) throw new Error('the case vanished');
  return record;
}

/**
 * Moves a case waiting for approval to approved, with an approval request and a grant for
 * `verb` on `agentId` written directly, as an owner's approval would leave them.
 */
export async function approveDirectly(
  db: Database,
  world: World,
  record: CaseRecord,
  input: { verb: string; agentId: string; expiresInMs?: number },
): Promise<{ requestId: string; grantId: string; record: CaseRecord }> {
  const requestId = randomUUID();
  const expiresAt = new Date(Date.now() + (input.expiresInMs ?? 15 * 60_000));
  await db.insert(approvalRequests).values({
    id: requestId,
    caseId: record.id,
    serial: record.serial,
    verb: input.verb,
    siteId: record.siteId,
    agentId: input.agentId,
    requestedBy: world.people.technician.id,
    reason: 'No admin credential works; the owner wants it back.',
    status: 'approved',
    expiresAt: new Date(Date.now() + 86_400_000),
    decidedAt: new Date(),
  });
  const [grant] = await db
    .insert(approvalGrants)
    .values({
      requestId,
      serial: record.serial,
      verb: input.verb,
      siteId: record.siteId,
      agentId: input.agentId,
      expiresAt,
    })
    .returning({ id: approvalGrants.id });
  if (grant === undefined) throw new Error('no grant row');
  const tech = { kind: 'user' as const, id: world.people.technician.id };
  const approver = { kind: 'user' as const, id: world.people.ownerApprover.id };
  await db.transaction((tx) =>
    applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'approval-requested', requestId },
      actor: tech,
      orgId: world.orgs.integrator.id,
    }),
  );
  const approved = await db.transaction((tx) =>
    applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'approved', requestId },
      actor: approver,
      orgId: world.orgs.owner.id,
    }),
  );
  return { requestId, grantId: grant.id, record: approved };
}
