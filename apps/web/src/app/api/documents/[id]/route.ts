import { handleDocumentDownload } from '~/server/api/document-routes.ts';
import { sessionActorResolver } from '~/server/api/route-support.ts';
import { getAuthRuntime } from '~/server/auth/auth-runtime.ts';
import { getRuntime } from '~/server/runtime.ts';

export const dynamic = 'force-dynamic';

export async function GET(
  request: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { auth, origins } = getAuthRuntime();
  const { db } = getRuntime().database;
  return handleDocumentDownload(request, (await params).id, {
    db,
    origins,
    actorOf: sessionActorResolver(auth, db),
  });
}
