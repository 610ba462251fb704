import type { CredentialSecret } from '@custody/core';
import type { Database } from '@custody/db';
import { SecretsUnavailableError, type SecretsResolver } from '../../gateway/resolve-secrets.ts';
import type { Executor } from '../executor.ts';
import { readCandidateForSerial } from './candidate-secrets.ts';
import { readCredentialForSerial } from './credential-store.ts';
import { isVaultError, type Vault } from './vault.ts';

/** Reads one vault entry for the camera a command is for; null when there is no such entry. */
export type SecretEntryReader = (
  executor: Executor,
  vault: Vault,
  id: string,
  serial: string,
) => Promise<CredentialSecret | null>;

/**
 * The kinds of `secretsRef` value, `<kind>:<uuid>`, and how each is read: a stored credential
 * version, or a candidate password a technician typed during triage. A new kind is one line.
 */
export const SECRET_ENTRY_READERS: Readonly<Record<string, SecretEntryReader>> = {
  credential: readCredentialForSerial,
  candidate: readCandidateForSerial,
};

const ENTRY = /^([a-z]+):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * The production resolver: delivers the credentials a command references from the vault, just
 * before it is signed and sent. Each entry must belong to the command's camera. Errors name the
 * reference and entry, never a secret; they end up in the command's error.
 */
export function createVaultSecretsResolver(
  db: Database,
  vault: Vault,
  readers: Readonly<Record<string, SecretEntryReader>> = SECRET_ENTRY_READERS,
): SecretsResolver {
  return async (request) => {
    const secrets: Record<string, CredentialSecret> = {};
    for (const [ref, entry] of Object.entries(request.secretsRef)) {
      const match = ENTRY.exec(entry);
      const read = match?.[1] === undefined ? undefined : readers[match[1].toLowerCase()];
      if (!match?.[2] || read === undefined) {
        throw new SecretsUnavailableError(
          `The ${ref} credential points at "${entry}", which is not a vault entry (credential:<id> or candidate:<id>).`,
        );
      }
      let secret: CredentialSecret | null;
      try {
        secret = await read(db, vault, match[2].toLowerCase(), request.serial);
      } catch (error) {
        const why = isVaultError(error) ? ` (${error.code})` : '';
        throw new SecretsUnavailableError(
          `The ${ref} credential (${entry}) could not be opened${why}.`,
          { cause: error },
        );
      }
      if (secret === null) {
        throw new SecretsUnavailableError(
          `The ${ref} credential (${entry}) is not held for camera ${request.serial}.`,
        );
      }
      secrets[ref] = { username: secret.username, password: secret.password };
    }
    return secrets;
  };
}
