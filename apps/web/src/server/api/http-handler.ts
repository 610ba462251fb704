import type { Database } from '@custody/db';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import type { Auth } from '../auth/create-auth.ts';
import { refuseCrossSiteMutation } from './csrf.ts';
import { appRouter } from './root.ts';
import { createTRPCContext } from './trpc.ts';

export const TRPC_ENDPOINT = '/api/trpc';

export interface TrpcHttpDependencies {
  db: Database;
  auth: Auth;
  origins: readonly string[];
}

/** Serves tRPC over the Fetch API: the CSRF gate first, then the router. */
export async function handleTrpcRequest(
  request: Request,
  dependencies: TrpcHttpDependencies,
): Promise<Response> {
  const refusal = refuseCrossSiteMutation(request, dependencies.origins);
  if (refusal) {
    return Response.json({ error: { message: refusal.message } }, { status: refusal.status });
  }
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    router: appRouter,
    req: request,
    createContext: () =>
      createTRPCContext({ headers: request.headers, db: dependencies.db, auth: dependencies.auth }),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error);
      }
    },
  });
}
