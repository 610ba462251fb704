import type { CaseEvent } from '@custody/core';
import type { Database } from '@custody/db';
import { cameras } from '@custody/db/schema';
import type { World } from '../../test-support/world.ts';
import { insertAgent } from '../fleet-test-fixtures.ts';
import { applyCaseEvent, getCase, openCase, type CaseRecord } from '../cases/case-store.ts';
import { loadActor } from '../actor.ts';
import { recordOwnership } from '../ownership/ownership-records.ts';

// Tests only: cameras with a reporting agent, and cases driven to the state a test starts from.

let serialNo = 0;
const agentBySite = new Map<string, string>();

/** A fresh serial on `siteId`, reported by that site's test agent. */
export async function insertReportedCamera(
  db: Database,
  siteId: string,
  fields: Partial<typeof cameras.$inferInsert> = {},
): Promise<{ serial: string; agentId: string }> {
  let agentId = agentBySite.get(siteId);
  if (agentId === undefined) {
    agentId = (await insertAgent(db, siteId, `Agent ${agentBySite.size + 1}`)).id;
    agentBySite.set(siteId, agentId);
  }
  serialNo += 1;
  const serial = `B8A44F${serialNo.toString(16).toUpperCase().padStart(6, '0')}`;
  await db.insert(cameras).values({
    serial,
    siteId,
    agentId,
    model: 'AXIS P3265-LVE',
    productName: 'AXIS P3265-LVE Dome Camera',
    address: `10.0.0.${(serialNo % 250) + 2}`,
    ...fields,
  });
  return { serial, agentId };
}

export type FixtureCaseState =
  'opened' | 'triaged' | 'awaiting-ownership' | 'awaiting-approval' | 'verified';

/**
 * Opens a case for `serial` as the world's technician and drives it to `state`. Reaching
 * awaiting-approval records ownership as the owner approver on the way.
 */
export async function caseIn(
  db: Database,
  world: World,
  serial: string,
  state: FixtureCaseState,
): Promise<CaseRecord> {
  const tech = { kind: 'user' as const, id: world.people.technician.id };
  const orgId = world.orgs.integrator.id;
  let record = await db.transaction((tx) => openCase(tx, { serial, actor: tech, orgId }));
  const apply = async (event: CaseEvent) => {
    record = await db.transaction((tx) =>
      applyCaseEvent(tx, { caseId: record.id, event, actor: tech, orgId }),
    );
  };
  if (state === 'opened') return record;
  await apply({
    type: 'triage-completed',
    path: 'recommission',
    resetRequired: state !== 'verified',
    reasons: ['No known credential works.'],
  });
  if (state === 'triaged') return record;
  if (state === 'awaiting-ownership') {
    await apply({ type: 'ownership-requested' });
    return record;
  }
  // Recording ownership moves the waiting case on (to awaiting-approval, or to provisioning
  // when no reset is needed).
  await recordOwnershipAs(db, world, serial);
  const moved = await getCase(db, record.id);
  if (moved === null) throw new Error('the case vanished');
  record = moved;
  if (state === 'awaiting-approval') return record;
  await apply({ type: 'provisioned' });
  await apply({ type: 'verification-passed' });
  return record;
}

/** Records ownership of `serial` as the world's owner approver, with an order number. */
export async function recordOwnershipAs(db: Database, world: World, serial: string) {
  const actor = await loadActor(db, world.people.ownerApprover.id, null);
  if (!actor) throw new Error('no owner approver');
  return recordOwnership(db, actor, {
    serial,
    circumstance: 'inherited-from-another-installer',
    evidence: [{ kind: 'order-number', reference: 'PO-2291' }],
  });
}
