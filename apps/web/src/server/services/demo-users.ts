import type { OrgKind, Role } from '@custody/core';
import type { Database } from '@custody/db';
import { integratorClients, memberships, organisations } from '@custody/db/schema';
import { and, eq } from 'drizzle-orm';
import {
  createPasswordUser,
  findUserByEmail,
  generateOneTimePassword,
  setPassword,
} from './accounts.ts';
import type { Executor } from './executor.ts';

export const DEMO_INTEGRATOR_NAME = 'Demo Integrator';
export const DEMO_OWNER_NAME = 'Demo Owner';

const DEMO_USERS: readonly { email: string; name: string; role: Role; org: OrgKind }[] = [
  {
    email: 'demo-admin@custody.local',
    name: 'Demo Admin',
    role: 'integrator-admin',
    org: 'integrator',
  },
  {
    email: 'demo-technician@custody.local',
    name: 'Demo Technician',
    role: 'technician',
    org: 'integrator',
  },
  {
    email: 'demo-owner@custody.local',
    name: 'Demo Owner Approver',
    role: 'owner-approver',
    org: 'owner',
  },
  { email: 'demo-auditor@custody.local', name: 'Demo Auditor', role: 'auditor', org: 'owner' },
];

export interface DemoCredential {
  role: Role;
  email: string;
  password: string;
  organisationName: string;
}

async function findOrCreateOrg(db: Executor, name: string, kind: OrgKind) {
  const [found] = await db
    .select()
    .from(organisations)
    .where(and(eq(organisations.name, name), eq(organisations.kind, kind)));
  if (found) return found;
  const [created] = await db.insert(organisations).values({ name, kind }).returning();
  if (!created) throw new Error(`Inserting ${name} returned no row`);
  return created;
}

/**
 * Demo accounts, one per role, in a demo integrator serving a demo owner. Only for the demo:
 * the caller runs it when asked. Passwords are new at every run (only their hashes are kept),
 * so the printed ones are always the valid ones.
 */
export async function seedDemoUsers(db: Database): Promise<DemoCredential[]> {
  return db.transaction(async (tx) => {
    const integrator = await findOrCreateOrg(tx, DEMO_INTEGRATOR_NAME, 'integrator');
    const owner = await findOrCreateOrg(tx, DEMO_OWNER_NAME, 'owner');
    await tx
      .insert(integratorClients)
      .values({ integratorOrgId: integrator.id, ownerOrgId: owner.id })
      .onConflictDoNothing();
    const credentials: DemoCredential[] = [];
    for (const demo of DEMO_USERS) {
      const org = demo.org === 'integrator' ? integrator : owner;
      const password = generateOneTimePassword();
      const existing = await findUserByEmail(tx, demo.email);
      const user =
        existing ??
        (await createPasswordUser(tx, {
          email: demo.email,
          name: demo.name,
          password,
          passwordChangeRequired: false,
        }));
      if (existing) await setPassword(tx, existing.id, password, { passwordChangeRequired: false });
      await tx
        .insert(memberships)
        .values({ userId: user.id, orgId: org.id, role: demo.role })
        .onConflictDoNothing();
      credentials.push({
        role: demo.role,
        email: demo.email,
        password,
        organisationName: org.name,
      });
    }
    return credentials;
  });
}

export function demoUsersBannerLines(credentials: readonly DemoCredential[]): string[] {
  const width = Math.max(...credentials.map((c) => c.email.length));
  return [
    '  demo users (new passwords at every start):',
    ...credentials.map(
      (c) =>
        `    ${c.role.padEnd(16)} ${c.email.padEnd(width)}  ${c.password}  (${c.organisationName})`,
    ),
  ];
}
