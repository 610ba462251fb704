import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCommandSigningKey } from './command-signing-key.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import { verifySignature } from './verify-signature.ts';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'custody-key-'));
  dirs.push(dir);
  return dir;
}

function recordingLogger() {
  const lines: string[] = [];
  const log: GatewayLogger = {
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
  return { log, lines };
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loadCommandSigningKey', () => {
  it('creates an Ed25519 key readable by its owner only and says to back it up', async () => {
    const file = join(await tempDir(), 'keys', 'command-signing-key.pem');
    const { log, lines } = recordingLogger();
    const signer = await loadCommandSigningKey(file, log);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(signer.publicKey).toMatch(/^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/);
    expect(lines).toEqual([expect.stringMatching(/^warn Created .*Back this file up/)]);
    expect(verifySignature(signer.publicKey, 'text', signer.sign('text'))).toBe(true);
    expect(verifySignature(signer.publicKey, 'other', signer.sign('text'))).toBe(false);
  });

  it('gives every process pointing at the same file the same key, even when they start together', async () => {
    const file = join(await tempDir(), 'command-signing-key.pem');
    const { log } = recordingLogger();
    const signers = await Promise.all([1, 2, 3, 4].map(() => loadCommandSigningKey(file, log)));
    expect(new Set(signers.map((signer) => signer.publicKey)).size).toBe(1);
    const later = await loadCommandSigningKey(file, recordingLogger().log);
    expect(later.publicKey).toBe(signers[0]?.publicKey);
  });

  it('refuses a key that is not Ed25519, and warns about a key file others can read', async () => {
    const dir = await tempDir();
    const rsa = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await expect(loadCommandSigningKey(rsa, recordingLogger().log)).rejects.toThrow(/Ed25519/);

    const open = join(dir, 'open.pem');
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(open, ed, { mode: 0o644 });
    const { log, lines } = recordingLogger();
    await loadCommandSigningKey(open, log);
    expect(lines).toEqual([expect.stringMatching(/^warn .*readable by other users/)]);
  });
});
