import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../identity/ed25519.ts';
import { IDENTITY_FILE, loadIdentity, saveIdentity } from './identity-store.ts';
import { isStoreError } from './store-error.ts';
import type { AgentIdentity } from './store-contracts.ts';
import { countingFs } from './testing/counting-fs.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-identity-');

function makeIdentity(): AgentIdentity {
  const keys = generateKeyPair();
  return {
    agentId: randomUUID(),
    siteId: randomUUID(),
    gatewayUrl: 'wss://custody.example.com/agent/v1',
    commandSigningKey: generateKeyPair().publicKey,
    publicKey: keys.publicKey,
    privateKeyPem: keys.privateKeyPem,
    enrolledAt: new Date().toISOString(),
  };
}

/** The base64 body of the PEM, which must never appear in an error. */
function keyMaterial(identity: AgentIdentity): string {
  return identity.privateKeyPem.split('\n')[1]!;
}

async function loadError(dataDir: string): Promise<Error> {
  const error: unknown = await loadIdentity(dataDir).then(
    () => new Error('loaded'),
    (caught: unknown) => caught,
  );
  return error as Error;
}

describe('the identity store', () => {
  it('returns null when the agent has not enrolled', async () => {
    expect(await loadIdentity(join(await tempDir(), 'missing'))).toBeNull();
  });

  it('saves identity.json as 0600 in a data directory it creates as 0700, and loads it back', async () => {
    const dataDir = join(await tempDir(), 'state', 'custody-agent');
    const identity = makeIdentity();
    await saveIdentity(dataDir, identity);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, IDENTITY_FILE))).mode & 0o777).toBe(0o600);
    expect(await loadIdentity(dataDir)).toEqual(identity);
    expect(await readdir(dataDir)).toEqual([IDENTITY_FILE]);
  });

  it('replaces an identity atomically: temp file fsync’d, renamed, directory fsync’d', async () => {
    const dataDir = await tempDir();
    await saveIdentity(dataDir, makeIdentity());
    const counting = countingFs();
    const replacement = makeIdentity();
    await saveIdentity(dataDir, replacement, { fs: counting.fs });
    expect(counting.counts).toMatchObject({ rename: 1, sync: 2 });
    expect(await loadIdentity(dataDir)).toEqual(replacement);
  });

  it('keeps the old identity and leaves no temp file when the write fails', async () => {
    const dataDir = await tempDir();
    const original = makeIdentity();
    await saveIdentity(dataDir, original);
    const counting = countingFs();
    counting.failNext('sync', /\.tmp$/);
    await expect(saveIdentity(dataDir, makeIdentity(), { fs: counting.fs })).rejects.toThrow(/EIO/);
    expect(await loadIdentity(dataDir)).toEqual(original);
    expect(await readdir(dataDir)).toEqual([IDENTITY_FILE]);
  });

  it('refuses, like ssh, an identity file that group or others can read or write', async () => {
    const dataDir = await tempDir();
    const identity = makeIdentity();
    await saveIdentity(dataDir, identity);
    const path = join(dataDir, IDENTITY_FILE);
    for (const mode of [0o640, 0o604, 0o620]) {
      await chmod(path, mode);
      const error = await loadError(dataDir);
      expect(isStoreError(error, 'file-insecure')).toBe(true);
      expect(error.message).toContain(path);
      expect(error.message).toContain(`0${mode.toString(8)}`);
      expect(error.message).toContain('chmod 600');
      expect(error.message).not.toContain(keyMaterial(identity));
    }
  });

  it('refuses malformed files with an error that names the file and never quotes the key', async () => {
    const dataDir = await tempDir();
    const identity = makeIdentity();
    const path = join(dataDir, IDENTITY_FILE);
    const key = keyMaterial(identity);
    const malformed = [
      // Not JSON, with the key right where JSON.parse would quote it.
      `${identity.privateKeyPem}`,
      `{"privateKeyPem": "${key}`,
      // JSON, but not an identity.
      JSON.stringify({ ...identity, privateKeyPem: key }),
      JSON.stringify({ ...identity, agentId: key }),
      JSON.stringify({ ...identity, publicKey: 42 }),
      JSON.stringify([identity.privateKeyPem]),
      '',
    ];
    for (const content of malformed) {
      await writeFile(path, content, { mode: 0o600 });
      const error = await loadError(dataDir);
      expect(isStoreError(error, 'file-malformed')).toBe(true);
      expect(error.message).toContain(path);
      const everything = `${error.message} ${String(error.cause)} ${JSON.stringify(error)} ${error.stack ?? ''}`;
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(key.slice(0, 16));
    }
    const error = await loadError(dataDir);
    expect(error.cause).toBeUndefined();
  });

  it('names the invalid fields of an identity that is not one', async () => {
    const dataDir = await tempDir();
    const identity = makeIdentity();
    await writeFile(
      join(dataDir, IDENTITY_FILE),
      JSON.stringify({ ...identity, gatewayUrl: 'http://x', enrolledAt: undefined }),
      { mode: 0o600 },
    );
    expect((await loadError(dataDir)).message).toMatch(/gatewayUrl, enrolledAt/);
  });

  it('refuses a directory where the file should be', async () => {
    const dataDir = await tempDir();
    await mkdir(join(dataDir, IDENTITY_FILE), { mode: 0o700 });
    expect(isStoreError(await loadError(dataDir), 'file-malformed')).toBe(true);
  });

  it('refuses to save an invalid identity without quoting it', async () => {
    const dataDir = await tempDir();
    const identity = makeIdentity();
    const error: unknown = await saveIdentity(dataDir, {
      ...identity,
      privateKeyPem: keyMaterial(identity),
    }).catch((caught: unknown) => caught);
    expect(isStoreError(error, 'invalid-record')).toBe(true);
    expect((error as Error).message).toContain('privateKeyPem');
    expect((error as Error).message).not.toContain(keyMaterial(identity));
    await expect(readFile(join(dataDir, IDENTITY_FILE))).rejects.toThrow(/ENOENT/);
  });
});
