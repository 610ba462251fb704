import type { Database } from '@custody/db';
import { memberships, organisations, siteGrants, sites } from '@custody/db/schema';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DEMO_INTEGRATOR_NAME, DEMO_OWNER_NAME } from '../services/demo-users.ts';

export interface DemoSiteFields {
  name: string;
  address: string;
  networkNotes: string;
}

export interface DemoSite {
  id: string;
  name: string;
  ownerName: string;
  integratorName: string;
  /** This run created the site (a fresh database). */
  created: boolean;
  /** The integrator holds an active grant on it. */
  granted: boolean;
}

// Two processes starting the demo on one PostgreSQL must not both create the site.
const DEMO_SITE_LOCK = sql`select pg_advisory_xact_lock(hashtext('custody.demo-site'))`;

/**
 * The demo site, owned by the demo owner and granted by its owner approver to the demo
 * integrator, created once and found again on later starts. A grant the owner revoked stays
 * revoked: the demo respects the owner's decision like everything else does.
 * The demo users must exist (seedDemoUsers); the grant is given in the approver's name.
 */
export async function seedDemoSite(db: Database, fields: DemoSiteFields): Promise<DemoSite> {
  return db.transaction(async (tx) => {
    await tx.execute(DEMO_SITE_LOCK);
    const orgs = await tx
      .select({ id: organisations.id, name: organisations.name, kind: organisations.kind })
      .from(organisations)
      .where(inArray(organisations.name, [DEMO_OWNER_NAME, DEMO_INTEGRATOR_NAME]))
      .orderBy(asc(organisations.createdAt));
    const owner = orgs.find((org) => org.kind === 'owner' && org.name === DEMO_OWNER_NAME);
    const integrator = orgs.find(
      (org) => org.kind === 'integrator' && org.name === DEMO_INTEGRATOR_NAME,
    );
    const [approver] = owner
      ? await tx
          .select({ userId: memberships.userId })
          .from(memberships)
          .where(and(eq(memberships.orgId, owner.id), eq(memberships.role, 'owner-approver')))
          .limit(1)
      : [];
    if (!owner || !integrator || !approver) {
      throw new Error('The demo site needs the demo organisations and users: seed them first.');
    }

    let [site] = await tx
      .select({ id: sites.id })
      .from(sites)
      .where(and(eq(sites.ownerOrgId, owner.id), eq(sites.name, fields.name)))
      .orderBy(asc(sites.createdAt))
      .limit(1);
    const created = site === undefined;
    if (!site) {
      [site] = await tx
        .insert(sites)
        .values({ ownerOrgId: owner.id, ...fields })
        .returning({ id: sites.id });
      if (!site) throw new Error('Inserting the demo site returned no row');
    }

    const grants = await tx
      .select({ revokedAt: siteGrants.revokedAt })
      .from(siteGrants)
      .where(and(eq(siteGrants.siteId, site.id), eq(siteGrants.integratorOrgId, integrator.id)));
    if (grants.length === 0) {
      await tx
        .insert(siteGrants)
        .values({ siteId: site.id, integratorOrgId: integrator.id, grantedBy: approver.userId });
    }
    return {
      id: site.id,
      name: fields.name,
      ownerName: owner.name,
      integratorName: integrator.name,
      created,
      granted: grants.length === 0 || grants.some((grant) => grant.revokedAt === null),
    };
  });
}
