import type { DigestSession } from './digest.ts';

/** How to authenticate the next request preemptively. Holds no password. */
export type AuthSession =
  | {
      kind: 'digest';
      digest: DigestSession;
      /** Keyed tag (HMAC with a per-process key) of the credential this nonce last worked with. */
      verifiedTag?: string;
    }
  | { kind: 'basic' };

/**
 * Digest nonces per camera origin and user, shared by every client in the process so a fresh
 * client for a known camera still costs one round trip per call. Basic entries only ever exist
 * for https origins (the client refuses Basic over http).
 */
export interface AuthSessionCache {
  get(origin: string, username: string): AuthSession | undefined;
  set(origin: string, username: string, session: AuthSession): void;
  delete(origin: string, username: string): void;
}

export function createAuthSessionCache(): AuthSessionCache {
  const sessions = new Map<string, AuthSession>();
  const keyOf = (origin: string, username: string): string => `${origin}\u0000${username}`;
  return {
    get: (origin, username) => sessions.get(keyOf(origin, username)),
    set: (origin, username, session) => {
      sessions.set(keyOf(origin, username), session);
    },
    delete: (origin, username) => {
      sessions.delete(keyOf(origin, username));
    },
  };
}

/** The process-wide cache used when a client is not given one. */
export const defaultAuthSessionCache: AuthSessionCache = createAuthSessionCache();
