import type { Role } from '@custody/core';
import type { Database, DatabaseHandle } from '@custody/db';
import {
  integratorClients,
  memberships,
  organisations,
  siteGrants,
  sites,
  users,
} from '@custody/db/schema';
import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import { createCaller } from '../api/root.ts';
import { createInnerTRPCContext } from '../api/trpc.ts';
import { loadActor, type Actor } from '../services/actor.ts';

/** A fresh migrated database: PGlite, or the PostgreSQL server of a `*@postgresql` project. */
export function openTestDatabase(): Promise<DatabaseHandle> {
  return createTestDatabase({ url: providedDatabaseUrl() });
}

async function insertOrg(db: Database, name: string, kind: 'integrator' | 'owner') {
  const [org] = await db.insert(organisations).values({ name, kind }).returning();
  if (!org) throw new Error('no organisation row');
  return org;
}

async function insertUser(db: Database, email: string, orgId: string, role: Role) {
  const [user] = await db
    .insert(users)
    .values({ email, name: email.split('@')[0] ?? email })
    .returning();
  if (!user) throw new Error('no user row');
  await db.insert(memberships).values({ userId: user.id, orgId, role });
  return user;
}

async function insertSite(db: Database, ownerOrgId: string, name: string) {
  const [site] = await db.insert(sites).values({ ownerOrgId, name }).returning();
  if (!site) throw new Error('no site row');
  return site;
}

export const CALLERS = [
  'integratorAdmin',
  'technician',
  'integratorAuditor',
  'ownerApprover',
  'ownerAuditor',
  'foreignIntegratorAdmin',
  'foreignOwnerApprover',
] as const;
export type CallerName = (typeof CALLERS)[number];

/**
 * Two tenants. Home: integrator "Northwind" serving owner "Harbour", which owns a granted site
 * and an ungranted one. Foreign: integrator "Southwind" serving owner "Quay" with one granted
 * site. One user per role in each home organisation, and an admin and an approver abroad.
 */
export async function seedWorld(db: Database) {
  const integrator = await insertOrg(db, 'Northwind Integrators', 'integrator');
  const owner = await insertOrg(db, 'Harbour Bakery', 'owner');
  const foreignIntegrator = await insertOrg(db, 'Southwind Integrators', 'integrator');
  const foreignOwner = await insertOrg(db, 'Quay Foods', 'owner');
  await db.insert(integratorClients).values([
    { integratorOrgId: integrator.id, ownerOrgId: owner.id },
    { integratorOrgId: foreignIntegrator.id, ownerOrgId: foreignOwner.id },
  ]);

  const people = {
    integratorAdmin: await insertUser(
      db,
      'admin@northwind.test',
      integrator.id,
      'integrator-admin',
    ),
    technician: await insertUser(db, 'tech@northwind.test', integrator.id, 'technician'),
    integratorAuditor: await insertUser(db, 'audit@northwind.test', integrator.id, 'auditor'),
    ownerApprover: await insertUser(db, 'approver@harbour.test', owner.id, 'owner-approver'),
    ownerAuditor: await insertUser(db, 'audit@harbour.test', owner.id, 'auditor'),
    foreignIntegratorAdmin: await insertUser(
      db,
      'admin@southwind.test',
      foreignIntegrator.id,
      'integrator-admin',
    ),
    foreignOwnerApprover: await insertUser(
      db,
      'approver@quay.test',
      foreignOwner.id,
      'owner-approver',
    ),
  } satisfies Record<CallerName, { id: string }>;

  const grantedSite = await insertSite(db, owner.id, 'Harbour Street');
  const ungrantedSite = await insertSite(db, owner.id, 'Harbour Depot');
  const foreignSite = await insertSite(db, foreignOwner.id, 'Quay Warehouse');
  await db.insert(siteGrants).values([
    { siteId: grantedSite.id, integratorOrgId: integrator.id, grantedBy: people.ownerApprover.id },
    {
      siteId: foreignSite.id,
      integratorOrgId: foreignIntegrator.id,
      grantedBy: people.foreignOwnerApprover.id,
    },
  ]);

  const actors = {} as Record<CallerName, Actor>;
  for (const name of CALLERS) {
    const actor = await loadActor(db, people[name].id, null);
    if (!actor) throw new Error(`no actor for ${name}`);
    actors[name] = actor;
  }

  return {
    orgs: { integrator, owner, foreignIntegrator, foreignOwner },
    people,
    sites: { grantedSite, ungrantedSite, foreignSite },
    actors,
  };
}

export type World = Awaited<ReturnType<typeof seedWorld>>;

/** A tRPC caller acting as `actor` (anonymous when null), without HTTP. */
export function callerFor(db: Database, actor: Actor | null) {
  return createCaller(createInnerTRPCContext({ db, actor }));
}

/** The tRPC error code a call fails with, or 'OK'. */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : `THREW ${String(error)}`;
  }
}

/**
 * Opens a database with the seeded world before the tests of the enclosing describe block
 * and closes it after them; the getters are valid inside the tests.
 */
export function useWorld(hooks: {
  beforeAll: (fn: () => Promise<void>, timeout?: number) => void;
  afterAll: (fn: () => Promise<void>) => void;
}) {
  let handle: DatabaseHandle | undefined;
  let world: World | undefined;
  hooks.beforeAll(async () => {
    handle = await openTestDatabase();
    world = await seedWorld(handle.db);
  });
  hooks.afterAll(async () => {
    await handle?.close();
  });
  const current = () => {
    if (!handle || !world) throw new Error('useWorld: the database is not open yet');
    return { handle, world };
  };
  return {
    /** The database handle, for what needs more than queries (LISTEN). */
    get handle() {
      return current().handle;
    },
    get db() {
      return current().handle.db;
    },
    get world() {
      return current().world;
    },
    as: (name: CallerName | 'anonymous') => {
      const { handle: open, world: seeded } = current();
      return callerFor(open.db, name === 'anonymous' ? null : seeded.actors[name]);
    },
  };
}
