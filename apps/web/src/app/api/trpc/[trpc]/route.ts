import { handleTrpcRequest } from '~/server/api/http-handler.ts';
import { getAuthRuntime } from '~/server/auth/auth-runtime.ts';
import { getRuntime } from '~/server/runtime.ts';

export const dynamic = 'force-dynamic';

function handle(request: Request): Promise<Response> {
  const { auth, origins } = getAuthRuntime();
  return handleTrpcRequest(request, { db: getRuntime().database.db, auth, origins });
}

export { handle as GET, handle as POST };
