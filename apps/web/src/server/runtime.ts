import type { DatabaseHandle } from '@custody/db';
import type { AgentGateway } from './gateway/index.ts';
import type { RotationFeed } from './services/rotation/rotation-feed.ts';
import type { Vault } from './services/vault/vault.ts';

/**
 * Process-wide services created by server.ts before Next handles a request.
 * Next bundles route code separately from server.ts, so the hand-over goes through
 * a global symbol rather than a module-level variable.
 */
export interface Runtime {
  database: DatabaseHandle;
  /** Agent connections, command dispatch and the fleet event feed (for live pages). */
  gateway: AgentGateway;
  /** Seals and opens camera credentials under the master keys. */
  vault: Vault;
  /** Live rotation progress (for the rotation pages and CLI). */
  rotationFeed?: RotationFeed | undefined;
  startedAt: Date;
}

const RUNTIME = Symbol.for('custody.runtime');
type WithRuntime = typeof globalThis & { [RUNTIME]?: Runtime };

export function setRuntime(runtime: Runtime | undefined): void {
  (globalThis as WithRuntime)[RUNTIME] = runtime;
}

export function getRuntime(): Runtime {
  const runtime = (globalThis as WithRuntime)[RUNTIME];
  if (!runtime) {
    throw new Error('Custody runtime is not initialised: start the web app through server.ts');
  }
  return runtime;
}
