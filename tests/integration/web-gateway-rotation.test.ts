import { schema } from '@custody/db';
import { providedDatabaseUrl } from '@custody/db/testing';
import type { SimulatedCamera } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../apps/web/src/server/services/audit-log.ts';
import {
  startRotationEngine,
  type RotationEngine,
} from '../../apps/web/src/server/services/rotation/rotation-engine.ts';
import { getRotationJob } from '../../apps/web/src/server/services/rotation/rotation-jobs.ts';
import {
  activateCredentialVersion,
  readActiveCredential,
  storeCredentialVersion,
} from '../../apps/web/src/server/services/vault/credential-store.ts';
import { eventually, startCaseSite, type CaseSite } from './support/case-site.ts';

// A bulk rotation end to end: the real gateway and rotation engine on a real database, the real
// agent, simulated cameras over real sockets. Six cameras, a canary of two, waves of two; after
// it, each camera's admin account accepts exactly the password the vault holds as active.

const url = providedDatabaseUrl();
const engine = url ? 'postgresql' : 'pglite';
const SITE_BASE = url ? '127.122.0.1' : '127.121.0.1';
const CAMERAS = 6;

let site: CaseSite;
let rotation: RotationEngine;
const cameras: SimulatedCamera[] = [];
const original = new Map<string, string>();

beforeAll(async () => {
  site = await startCaseSite({ addressBase: SITE_BASE, databaseUrl: url });
  rotation = await startRotationEngine({
    database: site.database,
    vault: site.vault,
    sweepIntervalMs: 500,
    log: { warn: () => undefined },
  });
  for (let index = 0; index < CAMERAS; index += 1) {
    const password = `Original-Root-Heron-${index}-4471`;
    const camera = await site.addCamera({
      firmware: index % 2 === 0 ? '11.11' : '12.x',
      users: [{ username: 'root', password, role: 'admin' }],
    });
    cameras.push(camera);
    original.set(camera.serial, password);
  }
  for (const camera of cameras) {
    await site.waitForCamera(camera.serial);
    const stored = await storeCredentialVersion(site.database.db, site.vault, {
      serial: camera.serial,
      account: 'admin',
      username: 'root',
      password: original.get(camera.serial)!,
      createdBy: null,
    });
    await activateCredentialVersion(site.database.db, stored.id);
  }
}, 90_000);

afterAll(async () => {
  await rotation?.close();
  await site?.close();
}, 30_000);

describe(`bulk rotation on ${engine}`, () => {
  it('rotates six cameras, canary first, and leaves each accepting exactly its vaulted active password', async () => {
    const admin = site.world.actors.integratorAdmin;
    const created = await site.as('integratorAdmin').rotation.create({
      siteIds: [site.world.sites.grantedSite.id],
      canarySize: 2,
      waveSize: 2,
    });
    expect(created).toMatchObject({ cameras: CAMERAS, waves: 2, skipped: [] });
    const { jobId } = created;

    const done = await eventually(
      async () => {
        const job = await getRotationJob(site.database.db, admin, { jobId });
        return job.job.status === 'running' ? undefined : job;
      },
      'the rotation to finish',
      90_000,
      100,
    );
    expect(done.job.status).toBe('completed');
    expect(done.totals).toMatchObject({ rotated: CAMERAS, failed: 0, skipped: 0 });
    expect(done.waves.map((wave) => wave.total)).toEqual([2, 2, 2]);

    for (const camera of cameras) {
      const active = await readActiveCredential(
        site.database.db,
        site.vault,
        camera.serial,
        'admin',
      );
      expect(active?.username).toBe('root');
      expect(active?.password).not.toBe(original.get(camera.serial));
      // The simulator's account holds the vault's active password, and nothing else.
      expect(camera.users.get('root')?.password).toBe(active?.password);
    }

    // The canary's changes all came before any wave's.
    const rows = await site.database.db.select().from(schema.commands);
    const changes = rows
      .filter((row) => row.verb === 'rotate-credential')
      .sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
    expect(changes).toHaveLength(CAMERAS);
    const items = await site.database.db.select().from(schema.rotationItems);
    const waveOf = new Map(items.map((item) => [item.serial, item.wave]));
    const canaryDone = Math.max(
      ...changes
        .filter((row) => waveOf.get(row.serial!) === 0)
        .map((row) => row.completedAt!.getTime()),
    );
    for (const row of changes.filter((change) => waveOf.get(change.serial!) !== 0)) {
      expect(row.queuedAt.getTime()).toBeGreaterThanOrEqual(canaryDone);
    }

    // No password, old or new, in a command, an item or the audit log.
    const secrets = [...original.values()];
    for (const camera of cameras) secrets.push(camera.users.get('root')!.password);
    const stored = JSON.stringify([
      rows,
      items,
      await listAuditEvents(site.database.db, { scope: 'all', limit: 500 }),
    ]);
    for (const secret of secrets) expect(stored).not.toContain(secret);
  }, 120_000);
});
