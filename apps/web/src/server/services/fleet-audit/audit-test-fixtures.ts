import type { Database } from '@custody/db';
import {
  cameraSiteConflicts,
  cases,
  credentials,
  ownershipRecords,
  verifications,
  vmsRegistrations,
} from '@custody/db/schema';
import type { World } from '../../test-support/world.ts';
import { insertCommand, seedFleet } from '../fleet-test-fixtures.ts';

// Tests only: the seeded fleet (fleet-test-fixtures.ts) with what the documentation audit reads.

const HOUR = 3_600_000;

/** Bytes standing in for a sealed password: the audit only asks whether a version is active. */
const SEALED = Uint8Array.from([1, 2, 3, 4]);

export async function insertCredential(
  db: Database,
  serial: string,
  account: 'admin' | 'service' | 'vms',
  status: 'pending' | 'active' | 'retired',
  version = 1,
) {
  await db.insert(credentials).values({
    serial,
    account,
    username: account === 'admin' ? 'root' : account,
    version,
    status,
    ciphertext: SEALED,
    wrappedKey: SEALED,
    keyId: 'test-key',
  });
}

/** A finished case to hang verifications on. */
export async function insertClosedCase(db: Database, world: World, serial: string, siteId: string) {
  const [row] = await db
    .insert(cases)
    .values({
      serial,
      siteId,
      status: 'documented',
      state: {},
      openedBy: world.people.technician.id,
    })
    .returning();
  if (!row) throw new Error('no case row');
  return row;
}

export async function insertVerification(
  db: Database,
  caseId: string,
  serial: string,
  passed: boolean,
  at: Date,
) {
  await db.insert(verifications).values({ caseId, serial, passed, checks: [], createdAt: at });
}

/**
 * The fleet, plus:
 * - ACCC8E000001 (Harbour Street): owner record, active admin credential, reset then verified,
 *   in the VMS: nothing to report.
 * - ACCC8E000002 (Harbour Street, firmware 9.80.3): only a superseded owner record, an active
 *   VMS credential but only a pending admin one, reset after its last passed verification,
 *   sighted by the Depot's agent too.
 * - B8A44F000003 (Harbour Street, seen 200 hours ago, no firmware) and ACCC8E000004 (Depot,
 *   factory default): nothing documented.
 */
export async function seedAuditedFleet(db: Database, world: World) {
  const fleet = await seedFleet(db, world);
  const { grantedSite } = world.sites;
  const { gatehouse, depot } = fleet.agents;
  const now = Date.now();
  const approver = world.people.ownerApprover.id;
  const owner = world.orgs.owner.id;

  await db.insert(ownershipRecords).values([
    { serial: 'ACCC8E000001', ownerOrgId: owner, attestedBy: approver },
    {
      serial: 'ACCC8E000002',
      ownerOrgId: owner,
      attestedBy: approver,
      supersededAt: new Date(now - 10 * HOUR),
    },
  ]);
  await insertCredential(db, 'ACCC8E000001', 'admin', 'retired', 1);
  await insertCredential(db, 'ACCC8E000001', 'admin', 'active', 2);
  await insertCredential(db, 'ACCC8E000002', 'admin', 'pending', 1);
  await insertCredential(db, 'ACCC8E000002', 'vms', 'active', 1);

  const first = await insertClosedCase(db, world, 'ACCC8E000001', grantedSite.id);
  await insertCommand(db, {
    agentId: gatehouse.id,
    serial: 'ACCC8E000001',
    verb: 'watch-for-device',
    status: 'succeeded',
    completedAt: new Date(now - 5 * HOUR),
  });
  // A failed reset after the verification does not count.
  await insertCommand(db, {
    agentId: gatehouse.id,
    serial: 'ACCC8E000001',
    verb: 'factory-default-hard',
    status: 'failed',
    completedAt: new Date(now - 2 * HOUR),
  });
  // Nor does a reset that cannot be dated (core and SQL agree to leave it out).
  await insertCommand(db, {
    agentId: gatehouse.id,
    serial: 'ACCC8E000001',
    verb: 'factory-default-soft',
    status: 'succeeded',
  });
  await insertVerification(db, first.id, 'ACCC8E000001', false, new Date(now - 4.5 * HOUR));
  await insertVerification(db, first.id, 'ACCC8E000001', true, new Date(now - 4 * HOUR));

  const second = await insertClosedCase(db, world, 'ACCC8E000002', grantedSite.id);
  await insertVerification(db, second.id, 'ACCC8E000002', true, new Date(now - 48 * HOUR));
  await insertCommand(db, {
    agentId: gatehouse.id,
    serial: 'ACCC8E000002',
    verb: 'factory-default-soft',
    status: 'succeeded',
    completedAt: new Date(now - 24 * HOUR),
  });

  await db.insert(vmsRegistrations).values({
    serial: 'ACCC8E000001',
    platform: 'AXIS Camera Station',
    source: 'manual',
    confirmedBy: world.people.technician.id,
  });
  await db.insert(cameraSiteConflicts).values({
    serial: 'ACCC8E000002',
    agentId: depot.id,
    siteId: world.sites.ungrantedSite.id,
    url: 'http://10.30.0.77/',
    address: '10.30.0.77',
  });
  return fleet;
}
