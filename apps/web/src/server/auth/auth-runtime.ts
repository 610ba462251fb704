import type { Auth } from './create-auth.ts';

export interface AuthRuntime {
  auth: Auth;
  /** The origins browsers use to reach Custody (see public-origins.ts). */
  origins: readonly string[];
}

// Next bundles route code apart from server.ts, so what server.ts creates is handed over
// through a global symbol, like the database in ../runtime.ts.
const AUTH = Symbol.for('custody.auth');
type WithAuth = typeof globalThis & { [AUTH]?: AuthRuntime };

export function setAuthRuntime(runtime: AuthRuntime | undefined): void {
  (globalThis as WithAuth)[AUTH] = runtime;
}

export function getAuthRuntime(): AuthRuntime {
  const runtime = (globalThis as WithAuth)[AUTH];
  if (!runtime) {
    throw new Error('Custody auth is not initialised: start the web app through server.ts');
  }
  return runtime;
}
