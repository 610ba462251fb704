import { vi } from 'vitest';
import type * as PasswordHasherModule from '../auth/password-hasher.ts';

// A setup file of the web test projects. Production hashing (scrypt at better-auth's cost: 32 MB
// and a fifth of a second or more per hash on a small machine) is tested in
// auth/password-hasher.test.ts; everywhere else a test needs a hash, not its cost, and hundreds
// of sign-ins, invitations and demo users at full cost took minutes of the suite. Same code,
// same format, a tiny cost.
vi.mock('../auth/password-hasher.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof PasswordHasherModule>();
  return { ...actual, passwordHasher: actual.createPasswordHasher({ N: 16, r: 1, p: 1 }) };
});
