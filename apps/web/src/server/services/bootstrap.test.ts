import { schema, type DatabaseHandle } from '@custody/db';
import { afterEach, describe, expect, it } from 'vitest';
import { passwordHasher } from '../auth/password-hasher.ts';
import { openTestDatabase } from '../test-support/world.ts';
import { loadActor } from './actor.ts';
import { bootstrapFirstAdmin, firstAdminBannerLines } from './bootstrap.ts';
import { seedDemoUsers, demoUsersBannerLines } from './demo-users.ts';

const open: DatabaseHandle[] = [];
async function fresh() {
  const handle = await openTestDatabase();
  open.push(handle);
  return handle;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((handle) => handle.close()));
});

describe('bootstrapFirstAdmin', () => {
  it('creates one integrator admin with a one-time password kept only as a hash', async () => {
    const { db } = await fresh();
    const outcome = await bootstrapFirstAdmin(db, { email: 'Root@Example.test' });
    if (outcome.kind !== 'created') throw new Error(`expected created, got ${outcome.kind}`);
    expect(outcome.email).toBe('root@example.test');
    expect(outcome.oneTimePassword).toMatch(/^[A-HJ-NP-Za-km-z2-9]{20}$/);

    const [account] = await db.select().from(schema.authAccounts);
    expect(account?.password).not.toContain(outcome.oneTimePassword);
    expect(
      await passwordHasher.verify({ hash: account!.password!, password: outcome.oneTimePassword }),
    ).toBe(true);
    const actor = await loadActor(db, account!.userId, null);
    expect(actor).toMatchObject({ passwordChangeRequired: true });
    expect(actor?.memberships.map((m) => [m.orgKind, m.role])).toEqual([
      ['integrator', 'integrator-admin'],
    ]);
  });

  it('prints the password in the banner once; a later start only reminds', async () => {
    const { db } = await fresh();
    const first = await bootstrapFirstAdmin(db, { email: 'root@example.test' });
    const second = await bootstrapFirstAdmin(db, { email: 'root@example.test' });
    expect(second).toEqual({ kind: 'awaiting-first-sign-in', email: 'root@example.test' });
    const password = first.kind === 'created' ? first.oneTimePassword : 'missing';
    expect(firstAdminBannerLines(first, 'http://x/sign-in').join('\n')).toContain(password);
    expect(firstAdminBannerLines(second, 'http://x/sign-in').join('\n')).not.toContain(password);
  });

  it('leaves a database that already has users alone', async () => {
    const { db } = await fresh();
    await db.insert(schema.users).values({ email: 'someone@example.test', name: 'Someone' });
    expect(await bootstrapFirstAdmin(db, { email: 'root@example.test' })).toEqual({
      kind: 'ready',
    });
    expect(await db.select().from(schema.users)).toHaveLength(1);
  });

  it('creates a single administrator when two processes start at once', async () => {
    const { db } = await fresh();
    const outcomes = await Promise.all([
      bootstrapFirstAdmin(db, { email: 'root@example.test' }),
      bootstrapFirstAdmin(db, { email: 'root@example.test' }),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['awaiting-first-sign-in', 'created']);
    expect(await db.select().from(schema.users)).toHaveLength(1);
  });
});

describe('seedDemoUsers', () => {
  it('gives every role one demo user and new passwords at every run', async () => {
    const { db } = await fresh();
    const first = await seedDemoUsers(db);
    expect(first.map((c) => c.role).sort()).toEqual(
      ['auditor', 'integrator-admin', 'owner-approver', 'technician'].sort(),
    );
    const second = await seedDemoUsers(db);
    expect(await db.select().from(schema.users)).toHaveLength(4);
    for (const [index, credential] of second.entries()) {
      expect(credential.password).not.toBe(first[index]?.password);
    }
    const lines = demoUsersBannerLines(second).join('\n');
    for (const credential of second) expect(lines).toContain(credential.password);
  });
});
