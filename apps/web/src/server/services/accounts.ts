import { webcrypto } from 'node:crypto';
import { DomainError } from '@custody/core';
import type { Database } from '@custody/db';
import { authAccounts, authSessions, users } from '@custody/db/schema';
import { and, eq, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { passwordHasher } from '../auth/password-hasher.ts';
import { appendAccountEvent } from './account-audit.ts';
import type { Executor } from './executor.ts';
import {
  ACCOUNT_RULE,
  accountKey,
  clearThrottle,
  hitThrottle,
  peekThrottle,
} from './login-throttle.ts';

export const CREDENTIAL_PROVIDER = 'credential';
export const USER_PASSWORD_MIN_LENGTH = 12;
export const USER_PASSWORD_MAX_LENGTH = 128;

export const UserPasswordSchema = z
  .string()
  .min(USER_PASSWORD_MIN_LENGTH, `Use at least ${USER_PASSWORD_MIN_LENGTH} characters.`)
  .max(USER_PASSWORD_MAX_LENGTH, `Use at most ${USER_PASSWORD_MAX_LENGTH} characters.`);

// Letters and digits without look-alikes (0/O, 1/l/I): easy to read off a terminal and to
// select with a double click, 20 of them carry about 116 bits.
const ONE_TIME_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A generated password for a person to type once; uniform by rejection sampling. */
export function generateOneTimePassword(length = 20): string {
  const acceptBelow = 256 - (256 % ONE_TIME_ALPHABET.length);
  let password = '';
  while (password.length < length) {
    for (const byte of webcrypto.getRandomValues(new Uint8Array(length))) {
      if (byte < acceptBelow && password.length < length) {
        password += ONE_TIME_ALPHABET[byte % ONE_TIME_ALPHABET.length];
      }
    }
  }
  return password;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUserByEmail(db: Executor, email: string) {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${normaliseEmail(email)}`);
  return user;
}

/**
 * Creates a user who signs in with e-mail and password, in the shape better-auth reads:
 * a `users` row and a `credential` account holding the password hash.
 */
export async function createPasswordUser(
  db: Executor,
  input: { email: string; name: string; password: string; passwordChangeRequired: boolean },
) {
  const [user] = await db
    .insert(users)
    .values({ email: normaliseEmail(input.email), name: input.name.trim() })
    .returning();
  if (!user) throw new Error('Inserting a user returned no row');
  await db.insert(authAccounts).values({
    userId: user.id,
    accountId: user.id,
    providerId: CREDENTIAL_PROVIDER,
    password: await passwordHasher.hash(input.password),
    passwordChangeRequired: input.passwordChangeRequired,
  });
  return user;
}

/** Replaces a user's password (for example a demo user's, reset at each start). */
export async function setPassword(
  db: Executor,
  userId: string,
  password: string,
  options: { passwordChangeRequired: boolean },
): Promise<void> {
  const hash = await passwordHasher.hash(password);
  const updated = await db
    .update(authAccounts)
    .set({
      password: hash,
      passwordChangeRequired: options.passwordChangeRequired,
      updatedAt: new Date(),
    })
    .where(and(eq(authAccounts.userId, userId), eq(authAccounts.providerId, CREDENTIAL_PROVIDER)))
    .returning({ id: authAccounts.id });
  if (updated.length === 0) {
    await db.insert(authAccounts).values({
      userId,
      accountId: userId,
      providerId: CREDENTIAL_PROVIDER,
      password: hash,
      passwordChangeRequired: options.passwordChangeRequired,
    });
  }
}

/**
 * Changes the signed-in user's own password after checking the current one. Wrong current
 * passwords count against the same per-account throttle as sign-in. Every other session of
 * the user ends; the one-time-password flag is cleared.
 */
export async function changeOwnPassword(
  db: Database,
  input: {
    userId: string;
    email: string;
    sessionId: string | null;
    currentPassword: string;
    newPassword: string;
  },
): Promise<void> {
  const key = accountKey(input.email);
  const throttle = await peekThrottle(db, key, ACCOUNT_RULE);
  if (!throttle.allowed) {
    throw new DomainError('rate-limited', 'Too many wrong passwords. Try again later.', {
      details: { retryAfterSeconds: throttle.retryAfterSeconds },
    });
  }
  const [account] = await db
    .select()
    .from(authAccounts)
    .where(
      and(eq(authAccounts.userId, input.userId), eq(authAccounts.providerId, CREDENTIAL_PROVIDER)),
    );
  if (!account?.password) {
    throw new DomainError('not-found', 'This account has no password to change.');
  }
  if (!(await passwordHasher.verify({ hash: account.password, password: input.currentPassword }))) {
    await hitThrottle(db, key, ACCOUNT_RULE);
    throw new DomainError('invalid-input', 'The current password is not correct.', {
      details: { field: 'currentPassword' },
    });
  }
  if (input.newPassword === input.currentPassword) {
    throw new DomainError('invalid-input', 'Choose a password different from the current one.', {
      details: { field: 'newPassword' },
    });
  }
  const hash = await passwordHasher.hash(input.newPassword);
  await db.transaction(async (tx) => {
    await tx
      .update(authAccounts)
      .set({ password: hash, passwordChangeRequired: false, updatedAt: new Date() })
      .where(eq(authAccounts.id, account.id));
    await tx
      .delete(authSessions)
      .where(
        input.sessionId
          ? and(eq(authSessions.userId, input.userId), ne(authSessions.id, input.sessionId))
          : eq(authSessions.userId, input.userId),
      );
    await appendAccountEvent(tx, {
      userId: input.userId,
      action: 'auth.password-changed',
      data: { oneTimePasswordReplaced: account.passwordChangeRequired },
    });
  });
  await clearThrottle(db, key);
}
