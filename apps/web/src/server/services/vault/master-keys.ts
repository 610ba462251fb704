import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

/** AES-256: every master key is 32 bytes. */
export const MASTER_KEY_BYTES = 32;

/** A key-encryption key. `id` is derived from the key, so a wrong key is caught before use. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The master keys a process holds. The first is active (new data keys are wrapped with it); the
 * others still unwrap data keys written before a rotation. Mutable on purpose: a key file is
 * re-read while the server runs, so a rotation needs no restart.
 */
export interface MasterKeyRing {
  /** Where the keys come from, for messages: `CUSTODY_MASTER_KEY` or the key file's path. */
  readonly source: string;
  readonly kind: 'env' | 'file';
  active(): MasterKey;
  find(id: string): MasterKey | undefined;
  ids(): string[];
  /** Re-reads the source; true when the keys changed. A no-op for keys from the environment. */
  reload(): Promise<boolean>;
}

export const MASTER_KEY_ERROR_CODES = [
  'master-key-invalid',
  'master-key-file-insecure',
  'master-key-file-invalid',
  'master-key-file-unavailable',
] as const;
export type MasterKeyErrorCode = (typeof MASTER_KEY_ERROR_CODES)[number];

/** Loading or parsing master keys failed. Messages name the entry or file, never key material. */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
  readonly code: MasterKeyErrorCode;

  constructor(code: MasterKeyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The first 8 bytes of SHA-256 of the key, hex: stored with each wrapped data key. */
export function masterKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('hex');
}

export function generateMasterKey(): MasterKey {
  const key = randomBytes(MASTER_KEY_BYTES);
  return { id: masterKeyId(key), key };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeKey(text: string, where: string, code: MasterKeyErrorCode): Buffer {
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new MasterKeyError(code, `${where} is not base64.`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(
      code,
      `${where} decodes to ${key.length} bytes; a master key is ${MASTER_KEY_BYTES} bytes (openssl rand -base64 32).`,
    );
  }
  return key;
}

function checkedKey(
  text: string,
  label: string | undefined,
  where: string,
  code: MasterKeyErrorCode,
): MasterKey {
  const key = decodeKey(text, where, code);
  const id = masterKeyId(key);
  if (label !== undefined && label !== id) {
    // The derived id is a hash prefix: naming it reveals nothing usable about the key.
    throw new MasterKeyError(
      code,
      `${where} is labelled ${label}, but the key's id is ${id}: the key or its label is mistyped.`,
    );
  }
  return { id, key };
}

function distinct(keys: MasterKey[], where: string, code: MasterKeyErrorCode): MasterKey[] {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.id)) {
      throw new MasterKeyError(code, `${where} holds the key ${key.id} twice.`);
    }
    seen.add(key.id);
  }
  return keys;
}

/**
 * Parses `CUSTODY_MASTER_KEY`: one base64 key, or several comma-separated for a rotation, the
 * first being active. Each may be written `id:key`, where the id (see `masterKeyId`) guards
 * against a truncated or mistyped key.
 */
export function parseMasterKeys(value: string): MasterKey[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new MasterKeyError('master-key-invalid', 'CUSTODY_MASTER_KEY is empty.');
  }
  const keys = entries.map((entry, index) => {
    const where = `Entry ${index + 1} of CUSTODY_MASTER_KEY`;
    const colon = entry.indexOf(':');
    if (colon === -1) return checkedKey(entry, undefined, where, 'master-key-invalid');
    const label = entry.slice(0, colon).trim();
    if (!/^[0-9a-f]{16}$/.test(label)) {
      throw new MasterKeyError(
        'master-key-invalid',
        `${where} has a label that is not a key id (16 hex digits) before its colon.`,
      );
    }
    return checkedKey(entry.slice(colon + 1).trim(), label, where, 'master-key-invalid');
  });
  return distinct(keys, 'CUSTODY_MASTER_KEY', 'master-key-invalid');
}

function ringOver(
  source: string,
  kind: MasterKeyRing['kind'],
  initial: MasterKey[],
  load: () => Promise<MasterKey[]>,
): MasterKeyRing {
  let keys = initial;
  return {
    source,
    kind,
    active: () => {
      const [active] = keys;
      if (!active) throw new MasterKeyError('master-key-invalid', `${source} holds no key.`);
      return active;
    },
    find: (id) => keys.find((key) => key.id === id),
    ids: () => keys.map((key) => key.id),
    reload: async () => {
      const next = await load();
      const changed = next.map((key) => key.id).join(',') !== keys.map((key) => key.id).join(',');
      keys = next;
      return changed;
    },
  };
}

/** A ring over keys already in memory: `CUSTODY_MASTER_KEY`, or tests. */
export function createMasterKeyRing(
  keys: readonly MasterKey[],
  source = 'CUSTODY_MASTER_KEY',
): MasterKeyRing {
  if (keys.length === 0) throw new MasterKeyError('master-key-invalid', `${source} holds no key.`);
  const copy = [...keys];
  return ringOver(source, 'env', copy, () => Promise.resolve(copy));
}

const KeyFileSchema = z.object({
  version: z.literal(1),
  /** Id of the key new data keys are wrapped with. */
  active: z.string(),
  keys: z
    .array(
      z.object({
        id: z.string(),
        key: z.string(),
        createdAt: z.string(),
        /** Set by a rotation: dropped once no credential is wrapped with it any more. */
        retiring: z.boolean().optional(),
      }),
    )
    .min(1),
});
export type MasterKeyFile = z.infer<typeof KeyFileSchema>;

/** The keys of a key file, active first. */
export function keysOfFile(file: MasterKeyFile, path: string): MasterKey[] {
  const keys = file.keys.map((entry, index) =>
    checkedKey(entry.key, entry.id, `Key ${index + 1} of ${path}`, 'master-key-file-invalid'),
  );
  distinct(keys, path, 'master-key-file-invalid');
  const active = keys.find((key) => key.id === file.active);
  if (!active) {
    throw new MasterKeyError(
      'master-key-file-invalid',
      `${path} names ${file.active} as its active key but does not hold it.`,
    );
  }
  return [active, ...keys.filter((key) => key !== active)];
}

/**
 * Reads a key file, or null when there is none. A file other users can read is refused: whoever
 * reads it can decrypt every credential.
 */
export async function readMasterKeyFile(path: string): Promise<MasterKeyFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MasterKeyError(
      'master-key-file-unavailable',
      `Cannot read the master key file ${path}.`,
      {
        cause: error,
      },
    );
  }
  const { mode } = await stat(path);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new MasterKeyError(
      'master-key-file-insecure',
      `The master key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message may quote the file, which holds keys.
    throw new MasterKeyError('master-key-file-invalid', `${path} is not JSON.`);
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const paths = parsed.error.issues.slice(0, 3).map((issue) => issue.path.join('.') || '(root)');
    throw new MasterKeyError(
      'master-key-file-invalid',
      `${path} is not a Custody master key file (${paths.join(', ')}).`,
    );
  }
  keysOfFile(parsed.data, path);
  return parsed.data;
}

/** Replaces the key file atomically (written aside with mode 0600, then renamed into place). */
export async function writeMasterKeyFile(path: string, file: MasterKeyFile): Promise<void> {
  keysOfFile(file, path);
  const aside = join(dirname(path), `.${basename(path)}-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(aside, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await rename(aside, path);
  } catch (error) {
    await unlink(aside).catch(() => undefined);
    throw new MasterKeyError(
      'master-key-file-unavailable',
      `Cannot write the master key file ${path}.`,
      {
        cause: error,
      },
    );
  }
}

export function fileEntryOf(key: MasterKey, now: Date = new Date()): MasterKeyFile['keys'][number] {
  return { id: key.id, key: key.key.toString('base64'), createdAt: now.toISOString() };
}

/**
 * Creates the key file with one new key unless it exists. Atomic (written aside, then
 * hard-linked into place), so processes starting together end up with the same key.
 * True when this call created it.
 */
async function createMasterKeyFile(path: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = generateMasterKey();
  const file: MasterKeyFile = { version: 1, active: key.id, keys: [fileEntryOf(key)] };
  const aside = join(dirname(path), `.${basename(path)}-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(aside, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new MasterKeyError(
      'master-key-file-unavailable',
      `Cannot create the master key file ${path}.`,
      {
        cause: error,
      },
    );
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

export interface LoadMasterKeysOptions {
  /** `CUSTODY_MASTER_KEY`, when set: it wins over any key file. */
  envValue?: string | undefined;
  /** The key file used (and created at first start) without `envValue`. */
  file: string;
  /** Told once, when a key file is created: the operator must back it up. */
  warn?: (message: string) => void;
  /** Create the key file when there is none (the server's first start); true by default. */
  create?: boolean;
}

/**
 * The master keys of this process: from `CUSTODY_MASTER_KEY`, or else from the key file,
 * created (mode 0600) with a fresh key at first start.
 */
export async function loadMasterKeys(options: LoadMasterKeysOptions): Promise<MasterKeyRing> {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    return createMasterKeyRing(parseMasterKeys(options.envValue));
  }
  const path = options.file;
  const load = async () => {
    const file = await readMasterKeyFile(path);
    if (file === null) {
      throw new MasterKeyError(
        'master-key-file-unavailable',
        `The master key file ${path} has disappeared; restore it from the backup.`,
      );
    }
    return keysOfFile(file, path);
  };
  if ((await readMasterKeyFile(path)) === null) {
    if (options.create === false) {
      throw new MasterKeyError(
        'master-key-file-unavailable',
        `There is no master key file ${path} (nor CUSTODY_MASTER_KEY): check CUSTODY_DATA_DIR and CUSTODY_MASTER_KEY_FILE.`,
      );
    }
    if (await createMasterKeyFile(path)) {
      (options.warn ?? ((message) => console.warn(message)))(
        `vault: created a new master key in ${path}. BACK THIS FILE UP NOW, apart from the database ` +
          'backups: every stored camera credential is encrypted under it, and without it they cannot ' +
          'be recovered. To keep the key out of the data directory, set CUSTODY_MASTER_KEY instead.',
      );
    }
  }
  return ringOver(path, 'file', await load(), load);
}
