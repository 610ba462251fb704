import { isDomainError } from '@custody/core';
import type { DatabaseHandle } from '@custody/db';
import { auditEvents, cameras, credentials } from '@custody/db/schema';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, seedWorld, type World } from '../../test-support/world.ts';
import {
  CREDENTIAL_VERSIONS_KEPT,
  activateCredentialVersion,
  activateCredentialVersions,
  discardPendingVersion,
  discardPendingVersions,
  listCredentialVersions,
  readActiveCredential,
  readCredentialForSerial,
  storeCredentialVersion,
  storeCredentialVersions,
} from './credential-store.ts';
import { createMasterKeyRing, generateMasterKey } from './master-keys.ts';
import { createVault, isVaultError } from './vault.ts';

let handle: DatabaseHandle;
let world: World;
const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
let nextSerial = 0x100;

beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
});
afterAll(async () => {
  await handle.close();
});

/** A camera of its own per test, on the granted site. */
async function newCamera(): Promise<string> {
  nextSerial += 1;
  const serial = `ACCC8E${nextSerial.toString(16).toUpperCase().padStart(6, '0')}`;
  await handle.db.insert(cameras).values({ serial, siteId: world.sites.grantedSite.id });
  return serial;
}

function store(serial: string, password: string, account: 'admin' | 'service' | 'vms' = 'admin') {
  return storeCredentialVersion(handle.db, vault, {
    serial,
    account,
    username: 'root',
    password,
    createdBy: world.people.technician.id,
    orgId: world.orgs.integrator.id,
  });
}

async function versionsOf(serial: string) {
  return (await listCredentialVersions(handle.db, serial)).map((v) => `${v.version}:${v.status}`);
}

describe('the credential store', () => {
  it('seals a new pending version, numbered after the last, and audits it without the password', async () => {
    const serial = await newCamera();
    const first = await store(serial, 'first-Secret-1');
    const second = await store(serial, 'second-Secret-2');
    const other = await store(serial, 'service-Secret-3', 'service');
    expect([first.version, second.version, other.version]).toEqual([1, 2, 1]);
    expect(await versionsOf(serial)).toEqual(['2:pending', '1:pending', '1:pending']);

    const [row] = await handle.db.select().from(credentials).where(eq(credentials.id, first.id));
    expect(Buffer.from(row?.ciphertext ?? []).includes('first-Secret-1')).toBe(false);
    expect(row?.keyId).toBe(vault.keys.active().id);

    const events = await handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'credential.stored'), eq(auditEvents.subjectId, first.id)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorId: world.people.technician.id,
      orgId: world.orgs.integrator.id,
      siteId: world.sites.grantedSite.id,
    });
    expect(JSON.stringify(events[0]?.payload)).toContain('"version":1');
    expect(JSON.stringify(events[0]?.payload)).not.toContain('first-Secret-1');
  });

  it('reads the active credential back, and nothing before one is active', async () => {
    const serial = await newCamera();
    const { id } = await store(serial, 'active-Secret-1');
    expect(await readActiveCredential(handle.db, vault, serial, 'admin')).toBeNull();
    await activateCredentialVersion(handle.db, id, { actorId: world.people.technician.id });
    expect(await readActiveCredential(handle.db, vault, serial, 'admin')).toEqual({
      id,
      username: 'root',
      password: 'active-Secret-1',
    });
    expect(await readActiveCredential(handle.db, vault, serial, 'vms')).toBeNull();
  });

  it('retires the previously active version on activation, and activates idempotently', async () => {
    const serial = await newCamera();
    const one = await store(serial, 'one-Secret-1');
    const two = await store(serial, 'two-Secret-2');
    await activateCredentialVersion(handle.db, one.id);
    await activateCredentialVersion(handle.db, two.id);
    await activateCredentialVersion(handle.db, two.id);
    expect(await versionsOf(serial)).toEqual(['2:active', '1:retired']);
    const refusal = await activateCredentialVersion(handle.db, one.id).catch(
      (error: unknown) => error,
    );
    expect(isDomainError(refusal, 'invalid-transition')).toBe(true);
    const audited = await handle.db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(eq(auditEvents.subjectId, two.id))
      .orderBy(asc(auditEvents.seq));
    expect(audited.map((event) => event.action)).toEqual([
      'credential.stored',
      'credential.activated',
    ]);
  });

  it(`keeps the last ${CREDENTIAL_VERSIONS_KEPT} versions and never deletes the active one`, async () => {
    const serial = await newCamera();
    const first = await store(serial, 'version-1-Secret');
    await activateCredentialVersion(handle.db, first.id);
    for (let n = 2; n <= 8; n += 1) await store(serial, `version-${n}-Secret`);
    expect(await versionsOf(serial)).toEqual([
      '8:pending',
      '7:pending',
      '6:pending',
      '5:pending',
      '4:pending',
      '1:active',
    ]);
    expect((await readActiveCredential(handle.db, vault, serial, 'admin'))?.password).toBe(
      'version-1-Secret',
    );
    // Once a newer version is active, the old active one is retired and ages out like the rest.
    const [newest] = await listCredentialVersions(handle.db, serial);
    await activateCredentialVersion(handle.db, newest?.id ?? '');
    await store(serial, 'version-9-Secret');
    expect(await versionsOf(serial)).toEqual([
      '9:pending',
      '8:active',
      '7:pending',
      '6:pending',
      '5:pending',
    ]);
  });

  it('numbers versions stored at the same time one after another', async () => {
    const serial = await newCamera();
    const stored = await Promise.all(
      [1, 2, 3, 4].map((n) => store(serial, `parallel-${n}-Secret`)),
    );
    expect(stored.map((s) => s.version).sort()).toEqual([1, 2, 3, 4]);
  });

  it('discards a pending version but not an active one', async () => {
    const serial = await newCamera();
    const one = await store(serial, 'kept-Secret-1');
    const two = await store(serial, 'dropped-Secret-2');
    await activateCredentialVersion(handle.db, one.id);
    await discardPendingVersion(handle.db, two.id, { actorId: world.people.technician.id });
    expect(await versionsOf(serial)).toEqual(['1:active']);
    const refusal = await discardPendingVersion(handle.db, one.id).catch((error: unknown) => error);
    expect(isDomainError(refusal, 'invalid-transition')).toBe(true);
  });

  it('refuses a ciphertext moved into another row', async () => {
    const serial = await newCamera();
    const one = await store(serial, 'moved-Secret-1');
    const two = await store(serial, 'victim-Secret-2');
    const [source] = await handle.db.select().from(credentials).where(eq(credentials.id, one.id));
    if (!source) throw new Error('no row');
    await handle.db
      .update(credentials)
      .set({ ciphertext: source.ciphertext, wrappedKey: source.wrappedKey, keyId: source.keyId })
      .where(eq(credentials.id, two.id));
    await activateCredentialVersion(handle.db, two.id);
    const failure = await readActiveCredential(handle.db, vault, serial, 'admin').catch(
      (error: unknown) => error,
    );
    expect(isVaultError(failure, 'vault-decrypt-failed')).toBe(true);
    expect(String((failure as Error).message)).not.toContain('moved-Secret-1');
  });

  it('refuses a camera it does not know and an empty password', async () => {
    const unknown = await store('ACCC8EFFFFFF', 'some-Secret-1').catch((error: unknown) => error);
    expect(isDomainError(unknown, 'not-found')).toBe(true);
    const serial = await newCamera();
    const empty = await store(serial, '').catch((error: unknown) => error);
    expect(isDomainError(empty, 'invalid-input')).toBe(true);
  });

  it("joins the caller's transaction: a rollback there leaves no version and no audit event", async () => {
    const serial = await newCamera();
    const failure = await handle.db
      .transaction(async (tx) => {
        const { id } = await storeCredentialVersion(tx, vault, {
          serial,
          account: 'admin',
          username: 'root',
          password: 'rolled-back-Secret',
          createdBy: null,
        });
        await activateCredentialVersion(tx, id);
        expect((await readActiveCredential(tx, vault, serial, 'admin'))?.id).toBe(id);
        throw new Error('the camera refused the password');
      })
      .catch((error: unknown) => error);
    expect(String(failure)).toContain('the camera refused the password');
    expect(await versionsOf(serial)).toEqual([]);
    const audited = await handle.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'credential.stored'));
    expect(JSON.stringify(audited)).not.toContain(serial);
  });

  it('lists versions as metadata only', async () => {
    const serial = await newCamera();
    await store(serial, 'listed-Secret-1');
    const [version] = await listCredentialVersions(handle.db, serial);
    expect(version).toMatchObject({
      serial,
      account: 'admin',
      username: 'root',
      version: 1,
      status: 'pending',
      createdByName: 'tech',
    });
    expect(Object.keys(version ?? {})).not.toContain('ciphertext');
    expect(JSON.stringify(version)).not.toContain('listed-Secret-1');
  });
});

describe('the credential store in bulk', () => {
  const bulkInput = (serial: string, password: string) => ({
    serial,
    account: 'admin' as const,
    username: 'root',
    password,
    createdBy: world.people.technician.id,
    orgId: world.orgs.integrator.id,
  });

  it('stores, activates and discards many versions like one at a time, each audited', async () => {
    const serials = [await newCamera(), await newCamera(), await newCamera()];
    const first = await store(serials[0]!, 'bulk-old-Secret-0');
    await activateCredentialVersion(handle.db, first.id);
    const stored = await storeCredentialVersions(
      handle.db,
      vault,
      serials.map((serial, n) => bulkInput(serial, `bulk-new-Secret-${n}`)),
    );
    expect(stored.map((row) => [row.serial, row.version])).toEqual([
      [serials[0], 2],
      [serials[1], 1],
      [serials[2], 1],
    ]);
    for (const [n, row] of stored.entries()) {
      const opened = await readCredentialForSerial(handle.db, vault, row.id, row.serial);
      expect(opened?.password).toBe(`bulk-new-Secret-${n}`);
    }
    const activated = await activateCredentialVersions(handle.db, [stored[0]!.id, stored[1]!.id], {
      orgId: world.orgs.integrator.id,
    });
    expect(activated).toEqual({ done: [stored[0]!.id, stored[1]!.id], refused: [] });
    expect(await versionsOf(serials[0]!)).toEqual(['2:active', '1:retired']);
    const discarded = await discardPendingVersions(handle.db, [stored[2]!.id, stored[0]!.id]);
    expect(discarded).toEqual({
      done: [stored[2]!.id],
      refused: [{ id: stored[0]!.id, status: 'active' }],
    });
    expect(await versionsOf(serials[2]!)).toEqual([]);
    // Activating again changes nothing; a retired version cannot come back.
    expect(await activateCredentialVersions(handle.db, [stored[0]!.id, first.id])).toEqual({
      done: [],
      refused: [{ id: first.id, status: 'retired' }],
    });
    const events = await handle.db.select().from(auditEvents);
    const about = (action: string, id: string) =>
      events.filter((event) => event.action === action && event.subjectId === id).length;
    expect(about('credential.stored', stored[1]!.id)).toBe(1);
    expect(about('credential.activated', stored[0]!.id)).toBe(1);
    expect(about('credential.discarded', stored[2]!.id)).toBe(1);
    const activation = events.find(
      (event) => event.action === 'credential.activated' && event.subjectId === stored[0]!.id,
    );
    expect((activation?.payload as { data: unknown }).data).toMatchObject({ retiredVersions: [1] });
    expect(JSON.stringify(events)).not.toContain('bulk-new-Secret');
  });

  it('prunes beyond the kept versions in bulk too, never the active one', async () => {
    const serial = await newCamera();
    const first = await store(serial, 'prune-1-Secret');
    await activateCredentialVersion(handle.db, first.id);
    for (let n = 2; n <= 7; n += 1) {
      await storeCredentialVersions(handle.db, vault, [bulkInput(serial, `prune-${n}-Secret`)]);
    }
    expect(await versionsOf(serial)).toEqual([
      '7:pending',
      '6:pending',
      '5:pending',
      '4:pending',
      '3:pending',
      '1:active',
    ]);
  });

  it('refuses two versions of one account in one call, and an unknown camera, storing nothing', async () => {
    const serial = await newCamera();
    await expect(
      storeCredentialVersions(handle.db, vault, [
        bulkInput(serial, 'twice-Secret-1'),
        bulkInput(serial, 'twice-Secret-2'),
      ]),
    ).rejects.toSatisfy((error) => isDomainError(error, 'invalid-input'));
    await expect(
      storeCredentialVersions(handle.db, vault, [
        bulkInput(serial, 'fine-Secret-1'),
        bulkInput('ACCC8EFFFFFF', 'unknown-Secret-1'),
      ]),
    ).rejects.toSatisfy((error) => isDomainError(error, 'not-found'));
    expect(await versionsOf(serial)).toEqual([]);
  });
});
