import { handleTrpcRequest } from '~/server/api/http-handler.ts';
import { getAuthRuntime } from '~/server/auth/auth-runtime.ts';
import { getRuntime } from '~/server/runtime.ts';
import { fleetFeedFor } from '~/server/services/fleet-feed.ts';

export const dynamic = 'force-dynamic';

function handle(request: Request): Promise<Response> {
  const { auth, origins } = getAuthRuntime();
  const { database, gateway, vault, rotationFeed } = getRuntime();
  return handleTrpcRequest(request, {
    db: database.db,
    auth,
    origins,
    fleetFeed: fleetFeedFor(database.db, gateway),
    vault,
    rotationFeed,
  });
}

export { handle as GET, handle as POST };
