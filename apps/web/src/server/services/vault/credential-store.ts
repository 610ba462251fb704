import { DomainError, type CredentialAccount } from '@custody/core';
import { cameras, credentials, users } from '@custody/db/schema';
import { and, asc, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import { appendAuditEvent, appendAuditEvents, type AuditEntry } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import type { Vault } from './vault.ts';

/** Versions kept per camera and account; older ones are deleted, except the active one. */
export const CREDENTIAL_VERSIONS_KEPT = 5;

export type CredentialStatus = (typeof credentials.$inferSelect)['status'];

/** What a credential version says about itself: never the secret. */
export interface CredentialVersionView {
  id: string;
  serial: string;
  account: CredentialAccount;
  username: string;
  version: number;
  status: CredentialStatus;
  /** The master key its data key is wrapped with. */
  keyId: string;
  createdBy: string | null;
  createdByName: string | null;
  createdAt: Date;
}

/** A decrypted credential, for server-internal use only: never returned to a browser or logged. */
export interface OpenedCredential {
  id: string;
  username: string;
  password: string;
}

/**
 * The additional authenticated data of a credential's ciphertext: it names the row, so a
 * ciphertext copied to another camera, account, version or username does not open.
 */
export function credentialAad(row: {
  serial: string;
  account: CredentialAccount;
  version: number;
  username: string;
}): string {
  return `credential|${row.serial}|${row.account}|${row.version}|${row.username}`;
}

/** Who did it, for the audit log: a user, or Custody itself. */
function auditActor(userId: string | null | undefined): AuditEntry['actor'] {
  return userId ? { kind: 'user', id: userId } : { kind: 'system', id: 'custody' };
}

async function siteOf(tx: Executor, serial: string): Promise<string> {
  const [camera] = await tx
    .select({ siteId: cameras.siteId })
    .from(cameras)
    .where(eq(cameras.serial, serial));
  if (!camera) throw new DomainError('not-found', 'No such camera.', { details: { serial } });
  return camera.siteId;
}

export interface StoreCredentialInput {
  serial: string;
  account: CredentialAccount;
  username: string;
  password: string;
  /** The user who set it; null when Custody generated it on its own. */
  createdBy: string | null;
  /** The organisation acted for, for the audit log. */
  orgId?: string | null | undefined;
}

/**
 * Seals a new version of a camera account's credential, status `pending` until the camera has
 * taken it (`activateCredentialVersion`). It gets the next version number; versions beyond the
 * last `CREDENTIAL_VERSIONS_KEPT` are deleted, but never the active one. Audited.
 */
export async function storeCredentialVersion(
  executor: Executor,
  vault: Vault,
  input: StoreCredentialInput,
): Promise<{ id: string; version: number }> {
  const { serial, account, username } = input;
  if (username.trim() === '' || input.password === '') {
    throw new DomainError('invalid-input', 'A credential needs a username and a password.');
  }
  return executor.transaction(async (tx) => {
    const siteId = await siteOf(tx, serial);
    // Serialises version numbering for this camera account across processes.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(${`custody-credentials|${serial}|${account}`}))`,
    );
    const [latest] = await tx
      .select({ version: sql<number>`coalesce(max(${credentials.version}), 0)::int` })
      .from(credentials)
      .where(and(eq(credentials.serial, serial), eq(credentials.account, account)));
    const version = (latest?.version ?? 0) + 1;
    const sealed = vault.seal(
      input.password,
      credentialAad({ serial, account, version, username }),
    );
    const [row] = await tx
      .insert(credentials)
      .values({
        serial,
        account,
        username,
        version,
        status: 'pending',
        ciphertext: sealed.ciphertext,
        wrappedKey: sealed.wrappedKey,
        keyId: sealed.keyId,
        createdBy: input.createdBy,
      })
      .returning({ id: credentials.id });
    if (!row) throw new Error('The credential insert returned no row.');

    const older = await tx
      .select({ id: credentials.id, version: credentials.version })
      .from(credentials)
      .where(
        and(
          eq(credentials.serial, serial),
          eq(credentials.account, account),
          ne(credentials.status, 'active'),
        ),
      )
      .orderBy(desc(credentials.version));
    const pruned = older.filter((old) => old.version <= version - CREDENTIAL_VERSIONS_KEPT);
    if (pruned.length > 0) {
      await tx.delete(credentials).where(
        inArray(
          credentials.id,
          pruned.map((old) => old.id),
        ),
      );
    }
    await appendAuditEvent(tx, {
      orgId: input.orgId ?? null,
      siteId,
      actor: auditActor(input.createdBy),
      action: 'credential.stored',
      subject: { kind: 'credential', id: row.id },
      data: {
        serial,
        account,
        username,
        version,
        keyId: sealed.keyId,
        prunedVersions: pruned.map((old) => old.version).sort((a, b) => a - b),
      },
    });
    return { id: row.id, version };
  });
}

export interface CredentialChangeOptions {
  /** The user who did it; omitted or null for Custody itself. */
  actorId?: string | null | undefined;
  orgId?: string | null | undefined;
}

async function lockCredential(tx: Executor, id: string) {
  const [row] = await tx
    .select({
      id: credentials.id,
      serial: credentials.serial,
      account: credentials.account,
      version: credentials.version,
      status: credentials.status,
    })
    .from(credentials)
    .where(eq(credentials.id, id))
    .for('update');
  if (!row) throw new DomainError('not-found', 'No such credential.', { details: { id } });
  return row;
}

/**
 * Makes a version the camera account's active credential (the camera has taken it); the
 * previously active one is retired. Activating the active version again does nothing; a
 * retired version cannot come back. Audited.
 */
export async function activateCredentialVersion(
  executor: Executor,
  id: string,
  options: CredentialChangeOptions = {},
): Promise<void> {
  await executor.transaction(async (tx) => {
    const row = await lockCredential(tx, id);
    if (row.status === 'active') return;
    if (row.status !== 'pending') {
      throw new DomainError('invalid-transition', 'Only a pending credential can be activated.', {
        details: { id, status: row.status },
      });
    }
    const retired = await tx
      .update(credentials)
      .set({ status: 'retired' })
      .where(
        and(
          eq(credentials.serial, row.serial),
          eq(credentials.account, row.account),
          eq(credentials.status, 'active'),
        ),
      )
      .returning({ version: credentials.version });
    await tx.update(credentials).set({ status: 'active' }).where(eq(credentials.id, id));
    await appendAuditEvent(tx, {
      orgId: options.orgId ?? null,
      siteId: await siteOf(tx, row.serial),
      actor: auditActor(options.actorId),
      action: 'credential.activated',
      subject: { kind: 'credential', id },
      data: {
        serial: row.serial,
        account: row.account,
        version: row.version,
        retiredVersions: retired.map((old) => old.version),
      },
    });
  });
}

/**
 * Deletes a pending version the camera never took (a rotation that failed or was abandoned).
 * Audited.
 */
export async function discardPendingVersion(
  executor: Executor,
  id: string,
  options: CredentialChangeOptions = {},
): Promise<void> {
  await executor.transaction(async (tx) => {
    const row = await lockCredential(tx, id);
    if (row.status !== 'pending') {
      throw new DomainError('invalid-transition', 'Only a pending credential can be discarded.', {
        details: { id, status: row.status },
      });
    }
    await tx.delete(credentials).where(eq(credentials.id, id));
    await appendAuditEvent(tx, {
      orgId: options.orgId ?? null,
      siteId: await siteOf(tx, row.serial),
      actor: auditActor(options.actorId),
      action: 'credential.discarded',
      subject: { kind: 'credential', id },
      data: { serial: row.serial, account: row.account, version: row.version },
    });
  });
}

function pairKey(serial: string, account: string): string {
  return `${serial}|${account}`;
}

async function sitesOf(tx: Executor, serials: readonly string[]): Promise<Map<string, string>> {
  const rows = await tx
    .select({ serial: cameras.serial, siteId: cameras.siteId })
    .from(cameras)
    .where(inArray(cameras.serial, [...new Set(serials)]));
  return new Map(rows.map((row) => [row.serial, row.siteId]));
}

export interface StoredVersion {
  id: string;
  serial: string;
  account: CredentialAccount;
  version: number;
}

/**
 * storeCredentialVersion for many camera accounts at once (one of each at most), with a few
 * statements in all instead of a dozen per version: what a bulk rotation queues per wave. Same
 * rules: pending, next version number under the same per-account lock (taken in a fixed order),
 * older versions pruned but never the active one, each version audited.
 */
export async function storeCredentialVersions(
  executor: Executor,
  vault: Vault,
  inputs: readonly StoreCredentialInput[],
): Promise<StoredVersion[]> {
  if (inputs.length === 0) return [];
  const keys = inputs.map((input) => pairKey(input.serial, input.account));
  if (new Set(keys).size !== keys.length) {
    throw new DomainError('invalid-input', 'Store one version per camera account at a time.');
  }
  for (const input of inputs) {
    if (input.username.trim() === '' || input.password === '') {
      throw new DomainError('invalid-input', 'A credential needs a username and a password.');
    }
  }
  return executor.transaction(async (tx) => {
    const serials = inputs.map((input) => input.serial);
    const sites = await sitesOf(tx, serials);
    const unknown = serials.find((serial) => !sites.has(serial));
    if (unknown !== undefined) {
      throw new DomainError('not-found', 'No such camera.', { details: { serial: unknown } });
    }
    // The locks storeCredentialVersion takes one at a time, here in sorted order so two bulk
    // stores cannot deadlock each other.
    const lockKeys = [...keys].sort().map((key) => `custody-credentials|${key}`);
    const lockRows = sql.join(
      lockKeys.map((key) => sql`(${key})`),
      sql`, `,
    );
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(ordered.k)) from (select k from (values ${lockRows}) as keys(k) order by k) as ordered`,
    );
    const existing = await tx
      .select({
        id: credentials.id,
        serial: credentials.serial,
        account: credentials.account,
        version: credentials.version,
        status: credentials.status,
      })
      .from(credentials)
      .where(inArray(credentials.serial, [...new Set(serials)]));
    const latest = new Map<string, number>();
    for (const row of existing) {
      const key = pairKey(row.serial, row.account);
      latest.set(key, Math.max(latest.get(key) ?? 0, row.version));
    }
    const values = inputs.map((input) => {
      const version = (latest.get(pairKey(input.serial, input.account)) ?? 0) + 1;
      const sealed = vault.seal(
        input.password,
        credentialAad({
          serial: input.serial,
          account: input.account,
          version,
          username: input.username,
        }),
      );
      return {
        serial: input.serial,
        account: input.account,
        username: input.username,
        version,
        status: 'pending' as const,
        ciphertext: sealed.ciphertext,
        wrappedKey: sealed.wrappedKey,
        keyId: sealed.keyId,
        createdBy: input.createdBy,
      };
    });
    const inserted = await tx.insert(credentials).values(values).returning({
      id: credentials.id,
      serial: credentials.serial,
      account: credentials.account,
      version: credentials.version,
    });
    const wanted = new Set(keys);
    const pruned = new Map<string, number[]>();
    const pruneIds: string[] = [];
    for (const row of existing) {
      const key = pairKey(row.serial, row.account);
      const version = (latest.get(key) ?? 0) + 1;
      if (!wanted.has(key) || row.status === 'active') continue;
      if (row.version > version - CREDENTIAL_VERSIONS_KEPT) continue;
      pruneIds.push(row.id);
      pruned.set(key, [...(pruned.get(key) ?? []), row.version]);
    }
    if (pruneIds.length > 0) await tx.delete(credentials).where(inArray(credentials.id, pruneIds));
    const byKey = new Map(inserted.map((row) => [pairKey(row.serial, row.account), row]));
    const stored = inputs.map((input) => {
      const row = byKey.get(pairKey(input.serial, input.account));
      if (row === undefined) throw new Error('The credential insert returned no row.');
      return row;
    });
    await appendAuditEvents(
      tx,
      stored.map((row, index) => {
        const input = inputs[index]!;
        return {
          orgId: input.orgId ?? null,
          siteId: sites.get(row.serial) ?? null,
          actor: auditActor(input.createdBy),
          action: 'credential.stored',
          subject: { kind: 'credential', id: row.id },
          data: {
            serial: row.serial,
            account: row.account,
            username: input.username,
            version: row.version,
            keyId: values[index]!.keyId,
            prunedVersions: (pruned.get(pairKey(row.serial, row.account)) ?? []).sort(
              (a, b) => a - b,
            ),
          },
        };
      }),
    );
    return stored;
  });
}

export interface BulkCredentialChange {
  /** The versions changed (activated, or discarded). */
  done: string[];
  /** Versions left as they were, with their status: not pending (or gone). */
  refused: { id: string; status: CredentialStatus | 'missing' }[];
}

/**
 * activateCredentialVersion for many versions (one per camera account at most): each pending
 * one becomes active and retires the account's active one; an active one is left as it is; any
 * other is refused, not thrown, so one conflict does not hold up the rest. Audited per version.
 */
export async function activateCredentialVersions(
  executor: Executor,
  ids: readonly string[],
  options: CredentialChangeOptions = {},
): Promise<BulkCredentialChange> {
  if (ids.length === 0) return { done: [], refused: [] };
  return executor.transaction(async (tx) => {
    const rows = await tx
      .select({
        id: credentials.id,
        serial: credentials.serial,
        account: credentials.account,
        version: credentials.version,
        status: credentials.status,
      })
      .from(credentials)
      .where(inArray(credentials.id, [...ids]))
      .orderBy(asc(credentials.id))
      .for('update');
    const found = new Map(rows.map((row) => [row.id, row]));
    const refused: BulkCredentialChange['refused'] = [];
    const pending = [];
    for (const id of ids) {
      const row = found.get(id);
      if (row === undefined) refused.push({ id, status: 'missing' });
      else if (row.status === 'pending') pending.push(row);
      else if (row.status !== 'active') refused.push({ id, status: row.status });
    }
    const keys = pending.map((row) => pairKey(row.serial, row.account));
    if (new Set(keys).size !== keys.length) {
      throw new DomainError('invalid-input', 'Activate one version per camera account at a time.');
    }
    if (pending.length === 0) return { done: [], refused };
    const retired = await tx
      .update(credentials)
      .set({ status: 'retired' })
      .where(
        and(
          eq(credentials.status, 'active'),
          inArray(sql`${credentials.serial} || '|' || ${credentials.account}::text`, keys),
        ),
      )
      .returning({
        serial: credentials.serial,
        account: credentials.account,
        version: credentials.version,
      });
    await tx
      .update(credentials)
      .set({ status: 'active' })
      .where(
        inArray(
          credentials.id,
          pending.map((row) => row.id),
        ),
      );
    const sites = await sitesOf(
      tx,
      pending.map((row) => row.serial),
    );
    await appendAuditEvents(
      tx,
      pending.map((row) => ({
        orgId: options.orgId ?? null,
        siteId: sites.get(row.serial) ?? null,
        actor: auditActor(options.actorId),
        action: 'credential.activated',
        subject: { kind: 'credential', id: row.id },
        data: {
          serial: row.serial,
          account: row.account,
          version: row.version,
          retiredVersions: retired
            .filter((old) => old.serial === row.serial && old.account === row.account)
            .map((old) => old.version),
        },
      })),
    );
    return { done: pending.map((row) => row.id), refused };
  });
}

/**
 * discardPendingVersion for many versions: each pending one is deleted and audited; any other is
 * refused, not thrown.
 */
export async function discardPendingVersions(
  executor: Executor,
  ids: readonly string[],
  options: CredentialChangeOptions = {},
): Promise<BulkCredentialChange> {
  if (ids.length === 0) return { done: [], refused: [] };
  return executor.transaction(async (tx) => {
    const rows = await tx
      .select({
        id: credentials.id,
        serial: credentials.serial,
        account: credentials.account,
        version: credentials.version,
        status: credentials.status,
      })
      .from(credentials)
      .where(inArray(credentials.id, [...ids]))
      .orderBy(asc(credentials.id))
      .for('update');
    const found = new Map(rows.map((row) => [row.id, row]));
    const refused: BulkCredentialChange['refused'] = [];
    const pending = [];
    for (const id of ids) {
      const row = found.get(id);
      if (row === undefined) refused.push({ id, status: 'missing' });
      else if (row.status === 'pending') pending.push(row);
      else refused.push({ id, status: row.status });
    }
    if (pending.length === 0) return { done: [], refused };
    await tx.delete(credentials).where(
      inArray(
        credentials.id,
        pending.map((row) => row.id),
      ),
    );
    const sites = await sitesOf(
      tx,
      pending.map((row) => row.serial),
    );
    await appendAuditEvents(
      tx,
      pending.map((row) => ({
        orgId: options.orgId ?? null,
        siteId: sites.get(row.serial) ?? null,
        actor: auditActor(options.actorId),
        action: 'credential.discarded',
        subject: { kind: 'credential', id: row.id },
        data: { serial: row.serial, account: row.account, version: row.version },
      })),
    );
    return { done: pending.map((row) => row.id), refused };
  });
}

type CredentialRow = typeof credentials.$inferSelect;

/** Decrypts a credentials row. Server-internal: the password must not leave the process unasked. */
export async function openCredentialRow(
  vault: Vault,
  row: CredentialRow,
): Promise<OpenedCredential> {
  const password = await vault.open(row, credentialAad(row));
  return { id: row.id, username: row.username, password };
}

/** The camera account's active credential, decrypted, or null when it has none. Not audited. */
export async function readActiveCredential(
  executor: Executor,
  vault: Vault,
  serial: string,
  account: CredentialAccount,
): Promise<OpenedCredential | null> {
  const [row] = await executor
    .select()
    .from(credentials)
    .where(
      and(
        eq(credentials.serial, serial),
        eq(credentials.account, account),
        eq(credentials.status, 'active'),
      ),
    );
  return row ? openCredentialRow(vault, row) : null;
}

/**
 * One credential version, decrypted, if it belongs to `serial` (null otherwise): what a command
 * for that camera may be given. Not audited; the command that carries it is.
 */
export async function readCredentialForSerial(
  executor: Executor,
  vault: Vault,
  id: string,
  serial: string,
): Promise<OpenedCredential | null> {
  const [row] = await executor
    .select()
    .from(credentials)
    .where(and(eq(credentials.id, id), eq(credentials.serial, serial)));
  return row ? openCredentialRow(vault, row) : null;
}

/** Every kept version of a camera's credentials, newest first per account: metadata only. */
export async function listCredentialVersions(
  db: Executor,
  serial: string,
): Promise<CredentialVersionView[]> {
  return db
    .select({
      id: credentials.id,
      serial: credentials.serial,
      account: credentials.account,
      username: credentials.username,
      version: credentials.version,
      status: credentials.status,
      keyId: credentials.keyId,
      createdBy: credentials.createdBy,
      createdByName: users.name,
      createdAt: credentials.createdAt,
    })
    .from(credentials)
    .leftJoin(users, eq(users.id, credentials.createdBy))
    .where(eq(credentials.serial, serial))
    .orderBy(asc(credentials.account), desc(credentials.version));
}
