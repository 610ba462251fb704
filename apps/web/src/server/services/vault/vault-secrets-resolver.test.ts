import { randomUUID } from 'node:crypto';
import type { DatabaseHandle } from '@custody/db';
import { cameras, credentialCandidates } from '@custody/db/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsUnavailableError, type SecretsRequest } from '../../gateway/resolve-secrets.ts';
import { openTestDatabase, seedWorld, type World } from '../../test-support/world.ts';
import { sealCandidatePassword } from './candidate-secrets.ts';
import { storeCredentialVersion } from './credential-store.ts';
import { createMasterKeyRing, generateMasterKey } from './master-keys.ts';
import { createVault } from './vault.ts';
import { createVaultSecretsResolver } from './vault-secrets-resolver.ts';

let handle: DatabaseHandle;
let world: World;
const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
const SERIAL = 'ACCC8E0000A1';
const OTHER = 'ACCC8E0000A2';

beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
  await handle.db.insert(cameras).values([
    { serial: SERIAL, siteId: world.sites.grantedSite.id },
    { serial: OTHER, siteId: world.sites.grantedSite.id },
  ]);
});
afterAll(async () => {
  await handle.close();
});

function request(serial: string, secretsRef: Record<string, string>): SecretsRequest {
  return { commandId: randomUUID(), agentId: randomUUID(), serial, verb: 'probe', secretsRef };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the vault secrets resolver', () => {
  it('delivers stored credentials and typed candidates for the command camera', async () => {
    const stored = await storeCredentialVersion(handle.db, vault, {
      serial: SERIAL,
      account: 'admin',
      username: 'root',
      password: 'stored-Secret-1',
      createdBy: null,
    });
    const candidateId = randomUUID();
    const sealed = sealCandidatePassword(vault, {
      id: candidateId,
      serial: SERIAL,
      password: 'typed-Secret-2',
    });
    await handle.db
      .insert(credentialCandidates)
      .values({ id: candidateId, serial: SERIAL, username: 'operator', ...sealed });

    const resolve = createVaultSecretsResolver(handle.db, vault);
    expect(
      await resolve(
        request(SERIAL, {
          admin: `credential:${stored.id}`,
          candidate: `candidate:${candidateId}`,
        }),
      ),
    ).toEqual({
      admin: { username: 'root', password: 'stored-Secret-1' },
      candidate: { username: 'operator', password: 'typed-Secret-2' },
    });
    expect(await resolve(request(SERIAL, {}))).toEqual({});

    // Another camera's command does not get them, whichever kind.
    const elsewhere = await refusal(resolve(request(OTHER, { admin: `credential:${stored.id}` })));
    expect(elsewhere).toMatch(/not held for camera ACCC8E0000A2/);
    await refusal(resolve(request(OTHER, { candidate: `candidate:${candidateId}` })));
  });

  it('refuses references that are not vault entries, and entries that do not open, without secrets', async () => {
    const resolve = createVaultSecretsResolver(handle.db, vault);
    expect(await refusal(resolve(request(SERIAL, { admin: 'hunter2' })))).toMatch(
      /not a vault entry/,
    );
    expect(await refusal(resolve(request(SERIAL, { admin: `password:${randomUUID()}` })))).toMatch(
      /not a vault entry/,
    );
    expect(
      await refusal(resolve(request(SERIAL, { admin: `credential:${randomUUID()}` }))),
    ).toMatch(/not held/);

    const stored = await storeCredentialVersion(handle.db, vault, {
      serial: SERIAL,
      account: 'vms',
      username: 'vms',
      password: 'other-key-Secret-3',
      createdBy: null,
    });
    const stranger = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
    const message = await refusal(
      createVaultSecretsResolver(
        handle.db,
        stranger,
      )(request(SERIAL, { vms: `credential:${stored.id}` })),
    );
    expect(message).toMatch(/could not be opened \(vault-unknown-key\)/);
    expect(message).not.toContain('other-key-Secret-3');
  });
});
