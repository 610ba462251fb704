import type { Database } from '@custody/db';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { safeErrorMessage } from '@custody/db/errors';
import type { Auth } from '../auth/create-auth.ts';
import type { FleetFeed } from '../services/fleet-feed.ts';
import type { RotationFeed } from '../services/rotation/rotation-feed.ts';
import type { Vault } from '../services/vault/vault.ts';
import { refuseCrossSiteMutation } from './csrf.ts';
import { retryAfterOf } from './error-table.ts';
import { appRouter } from './root.ts';
import { createTRPCContext } from './trpc.ts';

export const TRPC_ENDPOINT = '/api/trpc';

export interface TrpcHttpDependencies {
  db: Database;
  auth: Auth;
  origins: readonly string[];
  /** Live fleet changes for subscriptions (the process's feed). */
  fleetFeed?: FleetFeed | null | undefined;
  /** The credential vault (the process's). */
  vault?: Vault | null | undefined;
  /** Live rotation progress for subscriptions (the process's feed). */
  rotationFeed?: RotationFeed | null | undefined;
}

/** The origin the request came from if it is one of Custody's, else the first of them. */
function originOf(request: Request, origins: readonly string[]): string | null {
  const origin = request.headers.get('origin');
  if (origin !== null && origins.includes(origin)) return origin;
  const own = new URL(request.url).origin;
  return origins.includes(own) ? own : (origins[0] ?? null);
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
      createTRPCContext({
        headers: request.headers,
        db: dependencies.db,
        auth: dependencies.auth,
        fleetFeed: dependencies.fleetFeed,
        origin: originOf(request, dependencies.origins),
        vault: dependencies.vault,
        rotationFeed: dependencies.rotationFeed,
      }),
    // A rate-limited call is a 429 (the error table); Retry-After says when to try again.
    responseMeta({ errors }) {
      const retryAfter = errors.map((error) => retryAfterOf(error.cause)).find((s) => s !== null);
      return retryAfter == null ? {} : { headers: { 'retry-after': String(retryAfter) } };
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        console.error(`tRPC ${path ?? '?'} failed: ${safeErrorMessage(error.cause ?? error)}`);
      }
    },
  });
}
