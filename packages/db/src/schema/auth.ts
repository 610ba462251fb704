import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { memberRole } from './enums.ts';
import { organisations, users } from './tables.ts';

// better-auth keeps its user on the domain `users` table; these are the rest of its models,
// prefixed `auth_` so they never collide with domain tables (the domain has `verifications`).
// Property names are better-auth's field names: its drizzle adapter addresses columns by them.

const id = () => uuid('id').primaryKey().defaultRandom();
const ts = (name: string) => timestamp(name, { withTimezone: true });
const createdAt = () => ts('created_at').notNull().defaultNow();
const updatedAt = () => ts('updated_at').notNull().defaultNow();

export const authSessions = pgTable(
  'auth_sessions',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    token: text('token').notNull(),
    expiresAt: ts('expires_at').notNull(),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('auth_sessions_token_key').on(t.token),
    index('auth_sessions_user_idx').on(t.userId),
  ],
);

export const authAccounts = pgTable(
  'auth_accounts',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** For the `credential` provider, better-auth stores the user id here. */
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: ts('access_token_expires_at'),
    refreshTokenExpiresAt: ts('refresh_token_expires_at'),
    scope: text('scope'),
    password: text('password'),
    /**
     * Set for a generated one-time password (first-run administrator, invitations accepted with
     * one): every procedure but the password change refuses the session until it is replaced.
     */
    passwordChangeRequired: boolean('password_change_required').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('auth_accounts_provider_account_key').on(t.providerId, t.accountId),
    index('auth_accounts_user_idx').on(t.userId),
  ],
);

export const authVerifications = pgTable(
  'auth_verifications',
  {
    id: id(),
    identifier: text('identifier').notNull(),
    value: text('value').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('auth_verifications_identifier_idx').on(t.identifier)],
);

/**
 * Fixed-window counters for sign-in throttling, keyed by client address or account. Kept in
 * the database so that every web process sharing it enforces the same limits.
 */
export const authRateLimits = pgTable(
  'auth_rate_limits',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    windowStartedAt: ts('window_started_at').notNull(),
  },
  (t) => [check('auth_rate_limits_hits_positive', sql`${t.hits} >= 1`)],
);

/**
 * Process-wide secrets created on first start (the session-signing secret when none is
 * configured), so that every process and every restart agrees on them.
 */
export const authSecrets = pgTable('auth_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt(),
});

/** An invitation to join an organisation with one role; the token is stored only as a hash. */
export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: memberRole('role').notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    acceptedAt: ts('accepted_at'),
    acceptedBy: uuid('accepted_by').references(() => users.id),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    index('invitations_org_idx').on(t.orgId),
    uniqueIndex('invitations_pending_key')
      .on(t.orgId, sql`lower(${t.email})`, t.role)
      .where(sql`${t.acceptedAt} is null and ${t.revokedAt} is null`),
  ],
);

/**
 * An owner organisation served by an integrator: created when an integrator admin sets up a
 * client's organisation or when an owner grants the integrator a site. It lets the integrator
 * name the owner when creating sites and lets the owner find the integrator when granting;
 * access to a site still comes only from an active site grant.
 */
export const integratorClients = pgTable(
  'integrator_clients',
  {
    integratorOrgId: uuid('integrator_org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    ownerOrgId: uuid('owner_org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.integratorOrgId, t.ownerOrgId] }),
    index('integrator_clients_owner_idx').on(t.ownerOrgId),
  ],
);
