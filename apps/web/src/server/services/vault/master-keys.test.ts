import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MasterKeyError,
  fileEntryOf,
  generateMasterKey,
  loadMasterKeys,
  masterKeyId,
  parseMasterKeys,
  readMasterKeyFile,
  writeMasterKeyFile,
  type MasterKeyErrorCode,
} from './master-keys.ts';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'custody-vault-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function refusal(run: () => unknown): { code: MasterKeyErrorCode; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MasterKeyError)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('expected a MasterKeyError');
}

async function refusalOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof MasterKeyError)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('expected a MasterKeyError');
}

describe('parseMasterKeys', () => {
  it('derives each key id from the key, the first key being active', () => {
    const one = generateMasterKey();
    const two = generateMasterKey();
    const keys = parseMasterKeys(
      ` ${one.key.toString('base64')} , ${two.id}:${two.key.toString('base64')}`,
    );
    expect(keys.map((key) => key.id)).toEqual([one.id, two.id]);
    expect(one.id).toMatch(/^[0-9a-f]{16}$/);
    expect(masterKeyId(one.key)).toBe(one.id);
  });

  const bad: [string, string, RegExp][] = [
    ['not base64', 'this is not base64!!', /Entry 1 .* not base64/],
    [
      'the wrong length',
      Buffer.alloc(16, 7).toString('base64'),
      /decodes to 16 bytes; a master key is 32/,
    ],
    [
      'a label that is not an id',
      `admin:${Buffer.alloc(32, 7).toString('base64')}`,
      /not a key id/,
    ],
    [
      'a label of another key',
      `0000000000000000:${Buffer.alloc(32, 7).toString('base64')}`,
      /mistyped/,
    ],
    ['nothing', ' , ', /empty/],
  ];
  for (const [what, value, message] of bad) {
    it(`refuses ${what} clearly, without echoing the value`, () => {
      const failure = refusal(() => parseMasterKeys(value));
      expect(failure.code).toBe('master-key-invalid');
      expect(failure.message).toMatch(message);
      const material = value.split(':').at(-1)?.trim() ?? '';
      if (material.length > 4) expect(failure.message).not.toContain(material);
    });
  }

  it('refuses the same key twice', () => {
    const key = generateMasterKey().key.toString('base64');
    expect(refusal(() => parseMasterKeys(`${key},${key}`)).message).toMatch(/twice/);
  });
});

describe('loadMasterKeys', () => {
  it('creates a key file readable by its owner only, and says once to back it up', async () => {
    const file = join(await tempDir(), 'nested', 'master-keys.json');
    const warnings: string[] = [];
    const ring = await loadMasterKeys({ file, warn: (line) => warnings.push(line) });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(ring.kind).toBe('file');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/BACK THIS FILE UP/);
    const stored = await readMasterKeyFile(file);
    expect(stored?.active).toBe(ring.active().id);
    expect(warnings[0]).not.toContain(stored?.keys[0]?.key);

    const again = await loadMasterKeys({ file, warn: (line) => warnings.push(line) });
    expect(again.active().id).toBe(ring.active().id);
    expect(again.active().key.equals(ring.active().key)).toBe(true);
    expect(warnings).toHaveLength(1);
  });

  it('refuses a key file other users can read', async () => {
    const file = join(await tempDir(), 'master-keys.json');
    await loadMasterKeys({ file, warn: () => undefined });
    await chmod(file, 0o644);
    const failure = await refusalOf(loadMasterKeys({ file }));
    expect(failure.code).toBe('master-key-file-insecure');
    expect(failure.message).toContain('chmod 600');
  });

  it('prefers CUSTODY_MASTER_KEY and then creates no file', async () => {
    const file = join(await tempDir(), 'master-keys.json');
    const key = generateMasterKey();
    const ring = await loadMasterKeys({ envValue: key.key.toString('base64'), file });
    expect(ring.active().id).toBe(key.id);
    expect(ring.kind).toBe('env');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a key file that is not JSON without quoting it', async () => {
    const file = join(await tempDir(), 'master-keys.json');
    await writeFile(file, '{"version":1,"keys":[{"key":"c2VjcmV0', { mode: 0o600 });
    const failure = await refusalOf(loadMasterKeys({ file }));
    expect(failure.code).toBe('master-key-file-invalid');
    expect(failure.message).not.toContain('c2VjcmV0');
  });

  it('refuses a key file whose key does not match its id', async () => {
    const file = join(await tempDir(), 'master-keys.json');
    const key = generateMasterKey();
    const entry = { ...fileEntryOf(key), key: generateMasterKey().key.toString('base64') };
    await writeFile(file, JSON.stringify({ version: 1, active: key.id, keys: [entry] }), {
      mode: 0o600,
    });
    expect((await refusalOf(loadMasterKeys({ file }))).message).toMatch(/mistyped/);
  });

  it('picks up a key added to the file while running', async () => {
    const file = join(await tempDir(), 'master-keys.json');
    const ring = await loadMasterKeys({ file, warn: () => undefined });
    const first = ring.active();
    const stored = await readMasterKeyFile(file);
    if (!stored) throw new Error('no key file');
    const next = generateMasterKey();
    await writeMasterKeyFile(file, {
      ...stored,
      active: next.id,
      keys: [...stored.keys, fileEntryOf(next)],
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await ring.reload()).toBe(true);
    expect(ring.active().id).toBe(next.id);
    expect(ring.find(first.id)?.key.equals(first.key)).toBe(true);
    expect(await ring.reload()).toBe(false);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ active: next.id });
  });
});
