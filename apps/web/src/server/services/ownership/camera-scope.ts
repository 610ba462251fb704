import { DomainError } from '@custody/core';
import { cameras, organisations, sites } from '@custody/db/schema';
import { and, eq } from 'drizzle-orm';
import { accessibleSitesCondition } from '../access.ts';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';

export interface ScopedCamera {
  serial: string;
  model: string | null;
  productName: string | null;
  address: string | null;
  agentId: string | null;
  site: { id: string; name: string; address: string; ownerOrgId: string; ownerName: string };
}

/**
 * The camera and its site, if the actor may see the site. A camera outside the actor's tenancy is
 * reported exactly like an unknown serial.
 */
export async function requireAccessibleCamera(
  db: Executor,
  actor: Actor,
  serial: string,
): Promise<ScopedCamera> {
  const [row] = await db
    .select({
      serial: cameras.serial,
      model: cameras.model,
      productName: cameras.productName,
      address: cameras.address,
      agentId: cameras.agentId,
      site: {
        id: sites.id,
        name: sites.name,
        address: sites.address,
        ownerOrgId: sites.ownerOrgId,
        ownerName: organisations.name,
      },
    })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .innerJoin(organisations, eq(organisations.id, sites.ownerOrgId))
    .where(and(eq(cameras.serial, serial), accessibleSitesCondition(db, actor)));
  if (!row) throw new DomainError('not-found', 'No such camera.', { details: { serial } });
  return row;
}
