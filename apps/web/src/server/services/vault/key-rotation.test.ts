import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseHandle } from '@custody/db';
import { cameras, credentialCandidates } from '@custody/db/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rotateMasterKey } from '../../../cli/rotate-master-key.ts';
import { openTestDatabase, seedWorld, type World } from '../../test-support/world.ts';
import { readCandidateForSerial, sealCandidatePassword } from './candidate-secrets.ts';
import { readCredentialForSerial, storeCredentialVersion } from './credential-store.ts';
import {
  addMasterKeyToFile,
  countSealedRowsByKey,
  retireUnusedKeys,
  rewrapSealedRows,
} from './key-rotation.ts';
import {
  createMasterKeyRing,
  generateMasterKey,
  loadMasterKeys,
  readMasterKeyFile,
  type MasterKey,
} from './master-keys.ts';
import { startVault } from './start-vault.ts';
import { createVault, type Vault } from './vault.ts';

let handle: DatabaseHandle;
let world: World;
let cameraCount = 0;
const dirs: string[] = [];

// A database per test: a secret under a key a test's ring does not hold blocks retirement.
beforeEach(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
});
afterEach(async () => {
  await handle.close();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function keyFilePath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'custody-rotate-'));
  dirs.push(dir);
  return join(dir, 'master-keys.json');
}

interface SealedEntry {
  kind: 'credential' | 'candidate';
  id: string;
  serial: string;
  password: string;
}

/** A camera with `count` credential versions and one typed candidate, sealed by `vault`. */
async function sealSome(vault: Vault, count: number): Promise<SealedEntry[]> {
  cameraCount += 1;
  const serial = `ACCC8E${(0xc00 + cameraCount).toString(16).toUpperCase().padStart(6, '0')}`;
  await handle.db.insert(cameras).values({ serial, siteId: world.sites.grantedSite.id });
  const entries: SealedEntry[] = [];
  for (let n = 0; n < count; n += 1) {
    const account = (['admin', 'service', 'vms'] as const)[n % 3] ?? 'admin';
    const password = `rotate-${cameraCount}-${n}-Secret`;
    const { id } = await storeCredentialVersion(handle.db, vault, {
      serial,
      account,
      username: account,
      password,
      createdBy: null,
    });
    entries.push({ kind: 'credential', id, serial, password });
  }
  const id = randomUUID();
  const password = `candidate-${cameraCount}-Secret`;
  await handle.db.insert(credentialCandidates).values({
    id,
    serial,
    username: 'root',
    ...sealCandidatePassword(vault, { id, serial, password }),
  });
  entries.push({ kind: 'candidate', id, serial, password });
  return entries;
}

async function readAll(vault: Vault, entries: SealedEntry[]): Promise<string[]> {
  const read = (entry: SealedEntry) =>
    entry.kind === 'credential'
      ? readCredentialForSerial(handle.db, vault, entry.id, entry.serial)
      : readCandidateForSerial(handle.db, vault, entry.id, entry.serial);
  return Promise.all(entries.map(async (entry) => (await read(entry))?.password ?? 'missing'));
}

function keyCounts(counts: Map<string, number>, keys: MasterKey[]): number[] {
  return keys.map((key) => counts.get(key.id) ?? 0);
}

describe('master key rotation', () => {
  it('re-wraps every credential and candidate in batches while reads keep working', async () => {
    const old = generateMasterKey();
    const next = generateMasterKey();
    const entries = await sealSome(createVault({ keys: createMasterKeyRing([old]) }), 7);
    const rotating = createVault({ keys: createMasterKeyRing([next, old]) });

    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        expect(await readAll(rotating, entries)).toEqual(entries.map((entry) => entry.password));
        reads += 1;
      }
    })();
    const progress: string[] = [];
    const result = await rewrapSealedRows(handle.db, rotating, {
      batchSize: 2,
      onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
    });
    reading = false;
    await reader;

    expect(result).toMatchObject({ done: 8, failed: 0, activeKeyId: next.id });
    expect(reads).toBeGreaterThan(0);
    expect(progress[0]).toBe('0/8');
    expect(progress.at(-1)).toBe('8/8');
    expect(keyCounts(await countSealedRowsByKey(handle.db), [old, next])).toEqual([0, 8]);
    const onlyNext = createVault({ keys: createMasterKeyRing([next]) });
    expect(await readAll(onlyNext, entries)).toEqual(entries.map((entry) => entry.password));
    // Nothing left to do on a second pass.
    expect((await rewrapSealedRows(handle.db, rotating)).total).toBe(0);
  });

  it('keeps a retiring key in the file while any secret uses it', async () => {
    const file = await keyFilePath();
    const ring = await loadMasterKeys({ file, warn: () => undefined });
    const old = ring.active();
    await sealSome(createVault({ keys: ring }), 1);
    const next = await addMasterKeyToFile(file);
    expect(await retireUnusedKeys(handle.db, file)).toEqual([]);
    expect((await readMasterKeyFile(file))?.keys.map((key) => [key.id, key.retiring])).toEqual([
      [next.id, undefined],
      [old.id, true],
    ]);
  });

  it('rotates a key file with the command: new key, re-wrapped rows, old key retired, servers still reading', async () => {
    const file = await keyFilePath();
    const server = createVault({ keys: await loadMasterKeys({ file, warn: () => undefined }) });
    const old = server.keys.active();
    const entries = await sealSome(server, 4);

    const lines: string[] = [];
    const result = await rotateMasterKey({
      db: handle.db,
      keyFile: file,
      graceMs: 0,
      batchSize: 2,
      print: (line) => lines.push(line),
    });
    expect(result.retired).toEqual([old.id]);
    expect(result.failed).toBe(0);
    expect(result.rewrapped).toBeGreaterThanOrEqual(5);
    const stored = await readMasterKeyFile(file);
    expect(stored?.keys.map((key) => key.id)).toEqual([result.activeKeyId]);
    expect(lines.some((line) => /^Re-wrapping data keys: \d+\/\d+ \(100%\)$/.test(line))).toBe(
      true,
    );
    const material = stored?.keys[0]?.key ?? 'no key';
    expect(lines.join('\n')).not.toContain(material);
    expect(lines.join('\n')).not.toContain(old.key.toString('base64'));

    // The server loaded its keys before the rotation: it picks up the new key on first use.
    expect(await readAll(server, entries)).toEqual(entries.map((entry) => entry.password));
    expect(server.keys.active().id).toBe(result.activeKeyId);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ active: result.activeKeyId });
  });

  it('with keys from the environment, re-wraps to the first and names the keys that can go', async () => {
    const old = generateMasterKey();
    const next = generateMasterKey();
    await sealSome(createVault({ keys: createMasterKeyRing([old]) }), 2);
    const lines: string[] = [];
    const result = await rotateMasterKey({
      db: handle.db,
      masterKey: `${next.id}:${next.key.toString('base64')},${old.key.toString('base64')}`,
      keyFile: await keyFilePath(),
      print: (line) => lines.push(line),
    });
    expect(result.unused).toEqual([old.id]);
    expect(keyCounts(await countSealedRowsByKey(handle.db), [old])).toEqual([0]);
    expect(lines.join('\n')).toContain(`remove it from CUSTODY_MASTER_KEY`);
    expect(lines.join('\n')).not.toContain(next.key.toString('base64'));
  });

  it('reports secrets under a key it does not hold and keeps the old key until they are fixed', async () => {
    const file = await keyFilePath();
    const server = createVault({ keys: await loadMasterKeys({ file, warn: () => undefined }) });
    const old = server.keys.active();
    await sealSome(server, 1);
    const stray = await sealSome(
      createVault({ keys: createMasterKeyRing([generateMasterKey()]) }),
      1,
    );
    const lines: string[] = [];
    const result = await rotateMasterKey({
      db: handle.db,
      keyFile: file,
      graceMs: 0,
      print: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ rewrapped: 2, failed: 2, retired: [] });
    expect(lines.join('\n')).toContain(
      `could not re-wrap credentials ${stray[0]?.id}: vault-unknown-key`,
    );
    expect((await readMasterKeyFile(file))?.keys.map((key) => key.id)).toContain(old.id);
  });

  it('refuses to rotate where there is no key file instead of creating one', async () => {
    const file = await keyFilePath();
    await expect(
      rotateMasterKey({ db: handle.db, keyFile: file, print: () => undefined }),
    ).rejects.toMatchObject({
      code: 'master-key-file-unavailable',
    });
    await expect(readMasterKeyFile(file)).resolves.toBeNull();
  });

  it('leaves the embedded database to the running server', async () => {
    const file = await keyFilePath();
    await loadMasterKeys({ file, warn: () => undefined });
    const lines: string[] = [];
    const result = await rotateMasterKey({
      db: null,
      keyFile: file,
      print: (line) => lines.push(line),
    });
    expect(result.rewrapped).toBe(0);
    expect((await readMasterKeyFile(file))?.keys).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/running server: it re-wraps/);
  });

  it('a running server notices a new key in its file, re-wraps in the background and retires the old key', async () => {
    const file = await keyFilePath();
    const service = await startVault({
      db: handle.db,
      keyFile: file,
      watchIntervalMs: 25,
      log: { info: () => undefined, warn: () => undefined },
    });
    try {
      await service.settled();
      const old = service.vault.keys.active();
      const entries = await sealSome(service.vault, 3);
      const next = await addMasterKeyToFile(file);
      await vi.waitFor(
        async () => {
          await service.settled();
          expect((await readMasterKeyFile(file))?.keys.map((key) => key.id)).toEqual([next.id]);
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(keyCounts(await countSealedRowsByKey(handle.db), [old])).toEqual([0]);
      expect(await readAll(service.vault, entries)).toEqual(entries.map((entry) => entry.password));
    } finally {
      await service.close();
    }
  });
});
