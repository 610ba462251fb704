import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { DomainError, type EnrollRequest } from '@custody/core';
import type { Database } from '@custody/db';
import { agents, enrollmentTokens, memberships, siteGrants, sites } from '@custody/db/schema';
import { appendAuditEvent } from '../services/audit-log.ts';

const TOKEN_PREFIX = 'cenr_';
const MIN_TTL_MS = 1_000;
const MAX_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** The only form of a token the database ever holds. */
export function hashEnrollmentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface CreateEnrollmentTokenInput {
  siteId: string;
  /** The user who asked for it; null for tokens the system makes itself (the demo). */
  createdBy: string | null;
  ttlMs: number;
}

export interface CreatedEnrollmentToken {
  /** Shown once to whoever installs the agent; not recoverable afterwards. */
  token: string;
  tokenId: string;
  expiresAt: Date;
}

/** Creates a single-use token for enrolling an agent at a site. */
export async function createEnrollmentToken(
  db: Database,
  input: CreateEnrollmentTokenInput,
): Promise<CreatedEnrollmentToken> {
  if (!Number.isInteger(input.ttlMs) || input.ttlMs < MIN_TTL_MS || input.ttlMs > MAX_TTL_MS) {
    throw new DomainError(
      'invalid-input',
      'An enrollment token lives between one second and 30 days.',
      { details: { ttlMs: input.ttlMs } },
    );
  }
  const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.id, input.siteId));
  if (site === undefined) {
    throw new DomainError('invalid-input', 'There is no such site.', {
      details: { siteId: input.siteId },
    });
  }
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
  // The database clock decides expiry, so every server process agrees on it.
  const [row] = await db
    .insert(enrollmentTokens)
    .values({
      siteId: input.siteId,
      tokenHash: hashEnrollmentToken(token),
      createdBy: input.createdBy,
      expiresAt: sql`now() + ${input.ttlMs} * interval '1 millisecond'`,
    })
    .returning({ id: enrollmentTokens.id, expiresAt: enrollmentTokens.expiresAt });
  if (row === undefined) throw new Error('The enrollment token was not stored.');
  return { token, tokenId: row.id, expiresAt: row.expiresAt };
}

/**
 * The integrator the token's creator administers and that holds a grant on the site: whom the
 * enrollment is filed under in the audit log. Null for a token the system made.
 */
async function issuingIntegratorOf(
  tx: Database,
  token: { siteId: string; createdBy: string | null },
): Promise<string | null> {
  if (token.createdBy === null) return null;
  const [row] = await tx
    .select({ orgId: memberships.orgId })
    .from(memberships)
    .innerJoin(
      siteGrants,
      and(
        eq(siteGrants.integratorOrgId, memberships.orgId),
        eq(siteGrants.siteId, token.siteId),
        isNull(siteGrants.revokedAt),
      ),
    )
    .where(and(eq(memberships.userId, token.createdBy), eq(memberships.role, 'integrator-admin')))
    .orderBy(memberships.orgId)
    .limit(1);
  return row?.orgId ?? null;
}

export type EnrollOutcome =
  | { ok: true; agentId: string; siteId: string }
  | { ok: false; reason: 'invalid-token' | 'public-key-in-use' };

/**
 * Consumes the token and registers the agent in one transaction. The token row is locked, so of
 * two requests racing with the same token exactly one succeeds. Unknown, used and expired tokens
 * are one answer, so a guesser learns nothing about which tokens exist.
 */
export async function enrollAgent(db: Database, request: EnrollRequest): Promise<EnrollOutcome> {
  return db.transaction(async (tx): Promise<EnrollOutcome> => {
    const [token] = await tx
      .select({
        id: enrollmentTokens.id,
        siteId: enrollmentTokens.siteId,
        createdBy: enrollmentTokens.createdBy,
      })
      .from(enrollmentTokens)
      .where(
        and(
          eq(enrollmentTokens.tokenHash, hashEnrollmentToken(request.token)),
          isNull(enrollmentTokens.usedAt),
          gt(enrollmentTokens.expiresAt, sql`now()`),
        ),
      )
      .for('update');
    if (token === undefined) return { ok: false, reason: 'invalid-token' };
    const [agent] = await tx
      .insert(agents)
      .values({
        siteId: token.siteId,
        name: request.name,
        publicKey: request.publicKey,
        version: request.agentVersion,
      })
      .onConflictDoNothing({ target: agents.publicKey })
      .returning({ id: agents.id });
    // The token stays unused: a key collision is the request's fault, not the installer's.
    if (agent === undefined) return { ok: false, reason: 'public-key-in-use' };
    await tx
      .update(enrollmentTokens)
      .set({ usedAt: sql`now()`, usedByAgent: agent.id })
      .where(eq(enrollmentTokens.id, token.id));
    await appendAuditEvent(tx, {
      orgId: await issuingIntegratorOf(tx, token),
      siteId: token.siteId,
      actor: { kind: 'agent', id: agent.id },
      action: 'enrollment-token.used',
      subject: { kind: 'enrollment-token', id: token.id },
      data: { agentId: agent.id, name: request.name, agentVersion: request.agentVersion },
    });
    return { ok: true, agentId: agent.id, siteId: token.siteId };
  });
}
