import { scryptSync } from 'node:crypto';
import { hashPassword, verifyPassword } from 'better-auth/crypto';
import { describe, expect, it, vi } from 'vitest';
import type * as PasswordHasherModule from './password-hasher.ts';

// The other web tests hash at a tiny cost (test-support/cheap-password-hashing.ts); this one
// takes the module as production runs it.
const { passwordHasher, PASSWORD_SCRYPT_COST } =
  await vi.importActual<typeof PasswordHasherModule>('./password-hasher.ts');

const PASSWORD = 'correct horse battery staple';

describe('the password hasher', () => {
  it('hashes with scrypt at N=16384, r=16, p=1 into a salted 64-byte key', async () => {
    expect(PASSWORD_SCRYPT_COST).toEqual({ N: 16_384, r: 16, p: 1 });
    const hash = await passwordHasher.hash(PASSWORD);
    const [salt, key] = hash.split(':');
    expect(salt).toMatch(/^[0-9a-f]{32}$/);
    const expected = scryptSync(PASSWORD, salt!, 64, {
      N: 16_384,
      r: 16,
      p: 1,
      maxmem: 64 * 1024 * 1024,
    });
    expect(key).toBe(expected.toString('hex'));
    expect(await passwordHasher.hash(PASSWORD)).not.toBe(hash);
  });

  it('verifies the hashes better-auth wrote, and better-auth verifies its hashes', async () => {
    const theirs = await hashPassword(PASSWORD);
    expect(await passwordHasher.verify({ hash: theirs, password: PASSWORD })).toBe(true);
    expect(await passwordHasher.verify({ hash: theirs, password: `${PASSWORD}!` })).toBe(false);
    const ours = await passwordHasher.hash(PASSWORD);
    expect(await verifyPassword({ hash: ours, password: PASSWORD })).toBe(true);
    expect(await verifyPassword({ hash: ours, password: 'another password' })).toBe(false);
  });

  it('refuses a stored value that is not a hash', async () => {
    await expect(passwordHasher.verify({ hash: 'plain', password: 'plain' })).rejects.toThrow(
      'Invalid password hash',
    );
  });
});
