import { DomainError, type CredentialAccount, type Role } from '@custody/core';
import type { Database } from '@custody/db';
import { auditEvents, cameras, credentials, sites } from '@custody/db/schema';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { accessibleSitesCondition, grantedIntegratorOrgIds } from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import {
  listCredentialVersions,
  openCredentialRow,
  type CredentialVersionView,
} from './credential-store.ts';
import type { Vault } from './vault.ts';

/** Who may see a password in clear: changing credentials and viewing them are separate rights. */
export const REVEAL_ROLES: readonly Role[] = ['integrator-admin'];

/** Reveals per user in a sliding window, counted from the audit log (so across processes). */
export const REVEAL_RATE_LIMIT = { limit: 5, windowMs: 10 * 60_000 };

export const REVEAL_REASON_MIN_LENGTH = 10;
export const REVEAL_REASON_MAX_LENGTH = 500;

export const REVEALED_ACTION = 'credential.revealed';
export const REVEAL_REFUSED_ACTION = 'credential.reveal-refused';

/**
 * The kept credential versions of a camera the actor can see (metadata, never secrets). A camera
 * outside the actor's tenancy is reported like a missing one.
 */
export async function listCameraCredentialVersions(
  db: Database,
  actor: Actor,
  serial: string,
): Promise<CredentialVersionView[]> {
  const [camera] = await db
    .select({ serial: cameras.serial })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(and(eq(cameras.serial, serial), accessibleSitesCondition(db, actor)));
  if (!camera) throw new DomainError('not-found', 'No such camera.', { details: { serial } });
  return listCredentialVersions(db, serial);
}

export interface RevealInput {
  credentialId: string;
  /** Why the person needs to see it, kept in the audit log. */
  reason: string;
}

export interface RevealedCredential {
  id: string;
  serial: string;
  account: CredentialAccount;
  username: string;
  version: number;
  password: string;
}

type RevealOutcome =
  { revealed: RevealedCredential } | { refused: { retryAfterSeconds: number; count: number } };

/**
 * Shows one credential version in clear to a person: it takes the integrator-admin role in an
 * integrator granted the camera's site, a reason, and staying within `REVEAL_RATE_LIMIT`. Each
 * reveal is audited with its reason before the password is returned; a reveal over the limit
 * is refused, and the refusal audited.
 */
export async function revealCredential(
  db: Database,
  vault: Vault,
  actor: Actor,
  input: RevealInput,
  now: Date = new Date(),
): Promise<RevealedCredential> {
  const reason = input.reason.trim();
  if (reason.length < REVEAL_REASON_MIN_LENGTH || reason.length > REVEAL_REASON_MAX_LENGTH) {
    throw new DomainError(
      'invalid-input',
      `Say why you need to see this password (${REVEAL_REASON_MIN_LENGTH} to ${REVEAL_REASON_MAX_LENGTH} characters).`,
      { details: { field: 'reason' } },
    );
  }
  const [found] = await db
    .select({ credential: credentials, siteId: cameras.siteId })
    .from(credentials)
    .innerJoin(cameras, eq(cameras.serial, credentials.serial))
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(and(eq(credentials.id, input.credentialId), accessibleSitesCondition(db, actor)));
  if (!found) {
    throw new DomainError('not-found', 'No such credential.', {
      details: { credentialId: input.credentialId },
    });
  }
  const { credential, siteId } = found;
  const [orgId] = await grantedIntegratorOrgIds(db, actor, siteId, REVEAL_ROLES);
  if (orgId === undefined) {
    throw new DomainError(
      'forbidden',
      'Seeing a password in clear needs the integrator-admin role in an integrator this site is granted to.',
      { details: { reason: 'reveal-permission', roles: REVEAL_ROLES } },
    );
  }
  const subject = {
    serial: credential.serial,
    account: credential.account,
    username: credential.username,
    version: credential.version,
  };

  const outcome = await db.transaction(async (tx): Promise<RevealOutcome> => {
    // One user's reveals are counted one after another, so parallel requests cannot all slip in.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(${`custody-reveal|${actor.userId}`}))`,
    );
    const since = new Date(now.getTime() - REVEAL_RATE_LIMIT.windowMs);
    const recent = await tx
      .select({ at: auditEvents.at })
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.action, REVEALED_ACTION),
          eq(auditEvents.actorId, actor.userId),
          gt(auditEvents.at, since),
        ),
      )
      .orderBy(asc(auditEvents.at));
    if (recent.length >= REVEAL_RATE_LIMIT.limit) {
      const oldest = recent[recent.length - REVEAL_RATE_LIMIT.limit]?.at ?? now;
      const freeAt = oldest.getTime() + REVEAL_RATE_LIMIT.windowMs;
      return {
        refused: {
          retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)),
          count: recent.length,
        },
      };
    }
    const { password } = await openCredentialRow(vault, credential);
    // Fails closed: no audit event, no password.
    await appendAuditEvent(tx, {
      orgId,
      siteId,
      actor: { kind: 'user', id: actor.userId },
      action: REVEALED_ACTION,
      subject: { kind: 'credential', id: credential.id },
      data: { ...subject, reason },
      at: now,
    });
    return { revealed: { id: credential.id, ...subject, password } };
  });

  if ('revealed' in outcome) return outcome.revealed;
  const { retryAfterSeconds } = outcome.refused;
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      orgId,
      siteId,
      actor: { kind: 'user', id: actor.userId },
      action: REVEAL_REFUSED_ACTION,
      subject: { kind: 'credential', id: credential.id },
      data: { ...subject, reason, refusal: 'rate-limited' },
      at: now,
    }),
  );
  const minutes = Math.round(REVEAL_RATE_LIMIT.windowMs / 60_000);
  throw new DomainError(
    'rate-limited',
    `You have seen ${REVEAL_RATE_LIMIT.limit} passwords in the last ${minutes} minutes; try again in ${Math.ceil(retryAfterSeconds / 60)} min.`,
    { details: { retryAfterSeconds } },
  );
}
