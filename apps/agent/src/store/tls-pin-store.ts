import { join } from 'node:path';
import { SerialSchema } from '@custody/core';
import type { TlsPolicy } from '@custody/vapix';
import { z } from 'zod';
import { StoreError } from './store-error.ts';
import {
  ensureDirectory,
  nodeStoreFs,
  readJsonFile,
  PRIVATE_FILE_MODE,
  writeFileAtomic,
  type StoreFs,
} from './store-fs.ts';

export const TLS_PINS_FILE = 'tls-pins.json';
const FORMAT = 1;
const FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

const PinSchema = z.object({
  fingerprint256: z.string().regex(FINGERPRINT),
  pinnedAt: z.iso.datetime({ offset: true }),
  /** Set after a verified factory default: the next certificate seen is pinned afresh. */
  repinAllowed: z.boolean(),
});
type Pin = z.infer<typeof PinSchema>;

const FileSchema = z.object({
  format: z.literal(FORMAT),
  pins: z.record(SerialSchema, PinSchema),
});

/**
 * Per-camera certificate pins for HTTPS (trust on first use). AXIS cameras up to 11.x present a
 * self-signed certificate, so CA verification cannot work; instead the first certificate an
 * anonymous look at a camera sees, at an address that stated that camera's serial, is pinned for
 * that serial, and from then on only that certificate is accepted, for anonymous looks and
 * credentials alike. A hard factory default makes the camera generate a new certificate, so a pin
 * is replaced only once a command has verifiably factory-defaulted that very camera
 * (`allowRepin`); any other change of certificate is refused until an operator deletes the pin
 * from tls-pins.json.
 */
export interface TlsPinStore {
  /** The policy for a camera's https address: its pin, or pinning on first use when it has none. */
  policyFor(serial: string | undefined): TlsPolicy;
  /**
   * A certificate seen at an address that stated `serial`: pinned when the camera has no pin yet
   * (or may be re-pinned); otherwise ignored, since only the pinned certificate was accepted.
   */
  observe(serial: string, fingerprint256: string): void;
  /** After a verified factory default of `serial` by a command: its next certificate is pinned. */
  allowRepin(serial: string): void;
  /** Resolves once every change so far is on disk. */
  flush(): Promise<void>;
}

export interface TlsPinStoreOptions {
  fs?: StoreFs;
  now?: () => Date;
  /** Told about a write that failed (the pins stay in memory and the next change retries). */
  warn?: (message: string) => void;
}

async function readPins(fs: StoreFs, path: string): Promise<Map<string, Pin>> {
  const read = await readJsonFile(fs, path, (stats) => {
    // Whoever can change this file decides which certificate the agent sends credentials to.
    if (process.platform !== 'win32' && (stats.mode & 0o022) !== 0) {
      throw new StoreError(
        'file-insecure',
        `${path} decides which camera certificates are trusted but others can change it; restrict it with: chmod 600 ${path}`,
        { path },
      );
    }
  });
  if (read === null) return new Map();
  const parsed = FileSchema.safeParse(read.json);
  if (!parsed.success) {
    throw new StoreError('file-malformed', `${path} is not a TLS pin file`, { path });
  }
  return new Map(Object.entries(parsed.data.pins));
}

/** Opens (or starts) the pin store in the agent's data directory; the file is 0600. */
export async function openTlsPinStore(
  dataDir: string,
  options: TlsPinStoreOptions = {},
): Promise<TlsPinStore> {
  const fs = options.fs ?? nodeStoreFs;
  const now = options.now ?? (() => new Date());
  const path = join(dataDir, TLS_PINS_FILE);
  await ensureDirectory(fs, dataDir);
  const pins = await readPins(fs, path);
  let writing: Promise<void> = Promise.resolve();

  const save = () => {
    const text = JSON.stringify({ format: FORMAT, pins: Object.fromEntries(pins) }, null, 2);
    writing = writing
      .then(() => writeFileAtomic(fs, path, Buffer.from(`${text}\n`), PRIVATE_FILE_MODE))
      .catch((error: unknown) => {
        options.warn?.(`could not save the TLS pins: ${(error as Error).message}`);
      });
  };

  return {
    policyFor(serial) {
      const pin = serial === undefined ? undefined : pins.get(serial);
      return pin === undefined || pin.repinAllowed
        ? { mode: 'pin' }
        : { mode: 'pin', fingerprint256: pin.fingerprint256 };
    },
    observe(serial, fingerprint256) {
      const fingerprint = fingerprint256.toUpperCase();
      if (!FINGERPRINT.test(fingerprint) || !SerialSchema.safeParse(serial).success) return;
      const pin = pins.get(serial);
      if (pin !== undefined && !pin.repinAllowed) return;
      pins.set(serial, {
        fingerprint256: fingerprint,
        pinnedAt: now().toISOString(),
        repinAllowed: false,
      });
      save();
    },
    allowRepin(serial) {
      const pin = pins.get(serial);
      if (pin === undefined || pin.repinAllowed) return;
      pins.set(serial, { ...pin, repinAllowed: true });
      save();
    },
    flush: () => writing,
  };
}
