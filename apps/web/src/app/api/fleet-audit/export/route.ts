import { handleFleetAuditExport } from '~/server/api/fleet-audit-routes.ts';
import { sessionActorResolver } from '~/server/api/route-support.ts';
import { getAuthRuntime } from '~/server/auth/auth-runtime.ts';
import { getRuntime } from '~/server/runtime.ts';

export const dynamic = 'force-dynamic';

export async function GET(request: Request): Promise<Response> {
  const { auth, origins } = getAuthRuntime();
  const { db } = getRuntime().database;
  return handleFleetAuditExport(request, { db, origins, actorOf: sessionActorResolver(auth, db) });
}
