import { randomBytes } from 'node:crypto';
import type { AccessState } from '@custody/core';
import type { Database } from '@custody/db';
import { agents, cameraAddresses, cameras, commands } from '@custody/db/schema';
import type { World } from '../test-support/world.ts';

// Tests only: agents and cameras on the sites of the seeded world (see test-support/world.ts).

const HOUR = 3_600_000;

export async function insertAgent(
  db: Database,
  siteId: string,
  name: string,
  fields: Partial<typeof agents.$inferInsert> = {},
) {
  const [agent] = await db
    .insert(agents)
    .values({
      siteId,
      name,
      // Unique like a real key; never used to verify anything here.
      publicKey: `MCowBQYDK2VwAyEA${randomBytes(32).toString('base64')}`,
      ...fields,
    })
    .returning();
  if (!agent) throw new Error('no agent row');
  return agent;
}

export interface CameraFixture {
  serial: string;
  siteId: string;
  agentId: string | null;
  model: string | null;
  productName: string | null;
  firmware: string | null;
  address: string;
  accessState: AccessState | null;
  /** How long ago it was last seen. */
  seenHoursAgo: number;
  lost?: boolean;
}

export async function insertCamera(db: Database, fixture: CameraFixture, now = Date.now()) {
  const lastSeenAt = new Date(now - fixture.seenHoursAgo * HOUR);
  const firstSeenAt = new Date(lastSeenAt.getTime() - 48 * HOUR);
  await db.insert(cameras).values({
    serial: fixture.serial,
    siteId: fixture.siteId,
    agentId: fixture.agentId,
    model: fixture.model,
    productName: fixture.productName,
    firmware: fixture.firmware,
    hardwareId: fixture.model === null ? null : '9A1.1',
    mac: fixture.serial.replace(/(..)(?!$)/g, '$1:'),
    address: fixture.address,
    url: `http://${fixture.address}/`,
    source: 'scan',
    accessState: fixture.accessState,
    firstSeenAt,
    lastSeenAt,
    lostAt: fixture.lost ? lastSeenAt : null,
  });
  await db.insert(cameraAddresses).values({
    serial: fixture.serial,
    address: fixture.address,
    source: 'scan',
    firstSeenAt,
    lastSeenAt,
  });
}

/**
 * An agent per site and cameras of several models, firmware versions and access states:
 * three at the granted site, one at the ungranted one, one abroad.
 */
export async function seedFleet(db: Database, world: World) {
  const { grantedSite, ungrantedSite, foreignSite } = world.sites;
  const gatehouse = await insertAgent(db, grantedSite.id, 'Harbour gatehouse', {
    status: 'online',
    version: '0.4.0',
    protocolVersion: 1,
    outboxDepth: 3,
    lastSeenAt: new Date(),
  });
  const depot = await insertAgent(db, ungrantedSite.id, 'Depot cabinet', { status: 'offline' });
  const quay = await insertAgent(db, foreignSite.id, 'Quay office', { status: 'pending' });
  const fixtures: CameraFixture[] = [
    {
      serial: 'ACCC8E000001',
      siteId: grantedSite.id,
      agentId: gatehouse.id,
      model: 'M3086-V',
      productName: 'AXIS M3086-V Dome Camera',
      firmware: '11.11.73',
      address: '10.20.0.21',
      accessState: 'authenticated',
      seenHoursAgo: 0.1,
    },
    {
      serial: 'ACCC8E000002',
      siteId: grantedSite.id,
      agentId: gatehouse.id,
      model: 'P3265-LVE',
      productName: 'AXIS P3265-LVE Dome Camera',
      firmware: '9.80.3',
      address: '10.20.0.22',
      accessState: 'login-failed',
      seenHoursAgo: 30,
    },
    {
      serial: 'B8A44F000003',
      siteId: grantedSite.id,
      agentId: gatehouse.id,
      model: null,
      productName: null,
      firmware: null,
      address: '169.254.44.10',
      accessState: null,
      seenHoursAgo: 200,
      lost: true,
    },
    {
      serial: 'ACCC8E000004',
      siteId: ungrantedSite.id,
      agentId: depot.id,
      model: 'Q6135-LE',
      productName: 'AXIS Q6135-LE PTZ Camera',
      firmware: '12.0.1',
      address: '10.30.0.5',
      accessState: 'needs-setup',
      seenHoursAgo: 2,
    },
    {
      serial: 'E82725000005',
      siteId: foreignSite.id,
      agentId: quay.id,
      model: 'M3086-V',
      productName: 'AXIS M3086-V Dome Camera',
      firmware: '11.11.73',
      address: '10.40.0.9',
      accessState: 'locked-out',
      seenHoursAgo: 1,
    },
  ];
  for (const fixture of fixtures) await insertCamera(db, fixture);
  return { agents: { gatehouse, depot, quay }, cameras: fixtures };
}

export async function insertCommand(
  db: Database,
  fields: { agentId: string; serial: string; verb: string } & Partial<typeof commands.$inferInsert>,
) {
  const [command] = await db.insert(commands).values(fields).returning();
  if (!command) throw new Error('no command row');
  return command;
}
