import type { CommandVerb, CredentialSecret } from '@custody/core';

/** What a secrets resolver is told about the command it delivers credentials for. */
export interface SecretsRequest {
  commandId: string;
  agentId: string;
  serial: string;
  verb: CommandVerb;
  /** Credential reference (as the params name it) → the vault entry that holds it. */
  secretsRef: Readonly<Record<string, string>>;
}

/**
 * Turns a command's secret references into the credentials sent with it, just before it is
 * signed and sent. Nothing it returns is stored or logged; it must return exactly the references
 * asked for.
 */
export type SecretsResolver = (
  request: SecretsRequest,
) => Promise<Record<string, CredentialSecret>>;

export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
  readonly code = 'secrets-unavailable';
}

/**
 * The resolver of a gateway given none (server.ts gives the vault's, createVaultSecretsResolver):
 * commands without secrets pass, commands that need one fail clearly instead of going out
 * without it.
 */
export function resolveSecrets(request: SecretsRequest): Promise<Record<string, CredentialSecret>> {
  const refs = Object.keys(request.secretsRef);
  if (refs.length === 0) return Promise.resolve({});
  return Promise.reject(
    new SecretsUnavailableError(
      `No credential vault is available, so the ${refs.join(', ')} credential cannot be delivered.`,
    ),
  );
}

/**
 * A resolver over credentials held in memory, keyed by the vault reference. For tests and the
 * demo only: secrets never go through the database this way.
 */
export function createMemorySecretsResolver(
  entries: ReadonlyMap<string, CredentialSecret>,
): SecretsResolver {
  return (request) => {
    const secrets: Record<string, CredentialSecret> = {};
    for (const [ref, entry] of Object.entries(request.secretsRef)) {
      const secret = entries.get(entry);
      if (secret === undefined) {
        return Promise.reject(
          new SecretsUnavailableError(`No credential is held for the reference "${ref}".`),
        );
      }
      secrets[ref] = secret;
    }
    return Promise.resolve(secrets);
  };
}
