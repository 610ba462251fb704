import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost parameters. */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/**
 * better-auth's parameters and format (hex `salt:key`, a 64-byte key), so that the hashes it
 * wrote and these verify alike: 32 MB of memory and a noticeable fraction of a second per hash.
 */
export const PASSWORD_SCRYPT_COST: ScryptCost = { N: 16_384, r: 16, p: 1 };
const KEY_BYTES = 64;

function deriveKey(password: string, salt: string, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // On the libuv thread pool: a hash never blocks the event loop.
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_BYTES,
      { ...cost, maxmem: 256 * cost.N * cost.r * cost.p },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(input: { hash: string; password: string }): Promise<boolean>;
}

export function createPasswordHasher(cost: ScryptCost): PasswordHasher {
  return {
    async hash(password) {
      const salt = randomBytes(16).toString('hex');
      return `${salt}:${(await deriveKey(password, salt, cost)).toString('hex')}`;
    },
    async verify({ hash, password }) {
      const [salt, key] = hash.split(':');
      if (!salt || !key) throw new Error('Invalid password hash');
      const expected = Buffer.from(key, 'hex');
      const actual = await deriveKey(password, salt, cost);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}

/** The one password hasher: better-auth's sign-in and the account services both use it. */
export const passwordHasher: PasswordHasher = createPasswordHasher(PASSWORD_SCRYPT_COST);
