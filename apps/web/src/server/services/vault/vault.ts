import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKey, MasterKeyRing } from './master-keys.ts';

/**
 * Byte layout of both sealed columns (AES-256-GCM throughout):
 *
 *   ciphertext   = 0x01 | iv (12) | tag (16) | secret encrypted with the data key
 *   wrapped_key  = 0x01 | iv (12) | tag (16) | data key (32) encrypted with the master key
 *
 * The leading byte is the format version. The secret's additional authenticated data is the
 * caller's `aad` (UTF-8), which names the row it belongs to, so a ciphertext copied into another
 * row does not open. The data key's AAD is `custody-vault/dek/v1|<key id>`, binding it to the
 * master key it was wrapped with.
 */
const FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const DATA_KEY_BYTES = 32;

/** What the vault stores for one secret; every part is safe to persist and log-free to handle. */
export interface Sealed {
  ciphertext: Uint8Array;
  wrappedKey: Uint8Array;
  /** The master key `wrappedKey` was wrapped with. */
  keyId: string;
}

export type WrappedDataKey = Pick<Sealed, 'wrappedKey' | 'keyId'>;

export const VAULT_ERROR_CODES = [
  /** The master key a secret was wrapped with is not loaded. */
  'vault-unknown-key',
  /** Authentication failed: tampered, moved to another row, or wrapped with another key. */
  'vault-decrypt-failed',
  /** Not in the vault's byte layout. */
  'vault-malformed',
] as const;
export type VaultErrorCode = (typeof VAULT_ERROR_CODES)[number];

/** A secret could not be opened. Never carries plaintext, key material or the AAD. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isVaultError(value: unknown, code?: VaultErrorCode): value is VaultError {
  return value instanceof VaultError && (code === undefined || value.code === code);
}

export interface Vault {
  readonly keys: MasterKeyRing;
  /** Encrypts `plaintext` under a fresh data key, wrapped with the active master key. */
  seal(plaintext: string, aad: string): Sealed;
  /**
   * Decrypts a sealed secret. `aad` must be the one it was sealed with. A key id this process
   * does not hold makes it re-read its keys once (a rotation may have added one meanwhile).
   */
  open(sealed: Sealed, aad: string): Promise<string>;
  /** The same data key, wrapped with the active master key (for a rotation). */
  rewrap(wrapped: WrappedDataKey): Promise<WrappedDataKey>;
}

function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT), iv, cipher.getAuthTag(), body]);
}

function decrypt(key: Uint8Array, packed: Uint8Array, aad: Uint8Array, what: string): Buffer {
  const bytes = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  if (bytes.length < HEADER_BYTES || bytes[0] !== FORMAT) {
    throw new VaultError('vault-malformed', `The ${what} is not in the vault's format.`);
  }
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()]);
  } catch (error) {
    throw new VaultError(
      'vault-decrypt-failed',
      `The ${what} did not authenticate: it was altered, belongs to another record, or was sealed with another key.`,
      { cause: error },
    );
  }
}

function dataKeyAad(keyId: string): Buffer {
  return Buffer.from(`custody-vault/dek/v1|${keyId}`, 'utf8');
}

export function createVault(options: { keys: MasterKeyRing }): Vault {
  const { keys } = options;

  async function masterKeyFor(keyId: string): Promise<MasterKey> {
    const known = keys.find(keyId);
    if (known) return known;
    await keys.reload();
    const reloaded = keys.find(keyId);
    if (reloaded) return reloaded;
    throw new VaultError(
      'vault-unknown-key',
      `The secret is wrapped with master key ${keyId}, which ${keys.source} does not hold (held: ${keys.ids().join(', ')}).`,
    );
  }

  async function unwrap(wrapped: WrappedDataKey): Promise<Buffer> {
    const master = await masterKeyFor(wrapped.keyId);
    const dataKey = decrypt(master.key, wrapped.wrappedKey, dataKeyAad(master.id), 'data key');
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new VaultError('vault-malformed', 'The data key has the wrong length.');
    }
    return dataKey;
  }

  function wrap(dataKey: Uint8Array): WrappedDataKey {
    const master = keys.active();
    return { wrappedKey: encrypt(master.key, dataKey, dataKeyAad(master.id)), keyId: master.id };
  }

  return {
    keys,
    seal(plaintext, aad) {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      try {
        const ciphertext = encrypt(
          dataKey,
          Buffer.from(plaintext, 'utf8'),
          Buffer.from(aad, 'utf8'),
        );
        return { ciphertext, ...wrap(dataKey) };
      } finally {
        dataKey.fill(0);
      }
    },
    async open(sealed, aad) {
      const dataKey = await unwrap(sealed);
      try {
        return decrypt(dataKey, sealed.ciphertext, Buffer.from(aad, 'utf8'), 'secret').toString(
          'utf8',
        );
      } finally {
        dataKey.fill(0);
      }
    },
    async rewrap(wrapped) {
      const dataKey = await unwrap(wrapped);
      try {
        return wrap(dataKey);
      } finally {
        dataKey.fill(0);
      }
    },
  };
}
