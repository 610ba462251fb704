import { AGENT_STATUSES, DomainError, type AgentStatus } from '@custody/core';
import type { Database } from '@custody/db';
import { agents, cameras, enrollmentTokens, siteGrants, sites, users } from '@custody/db/schema';
import { and, asc, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { createEnrollmentToken } from '../gateway/enrollment.ts';
import { revokeAgent } from '../gateway/revoke-agent.ts';
import {
  accessibleSitesCondition,
  grantedIntegratorOrgIds,
  orgIdsOf,
  requireAccessibleSite,
} from './access.ts';
import type { Actor } from './actor.ts';
import { appendAuditEvent } from './audit-log.ts';

/** An agent as the dashboard shows it. */
export interface AgentView {
  id: string;
  siteId: string;
  siteName: string;
  name: string;
  status: AgentStatus;
  version: string | null;
  /** Negotiated on its last connection. */
  protocolVersion: number | null;
  lastSeenAt: Date | null;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  /** Durable messages the agent holds that the server has not acknowledged yet. */
  outboxDepth: number | null;
  runningCommands: number | null;
  enrolledAt: Date;
  revokedAt: Date | null;
  /** Cameras this agent reported last. */
  cameraCount: number;
}

const agentColumns = {
  id: agents.id,
  siteId: agents.siteId,
  siteName: sites.name,
  name: agents.name,
  status: agents.status,
  version: agents.version,
  protocolVersion: agents.protocolVersion,
  lastSeenAt: agents.lastSeenAt,
  connectedAt: agents.connectedAt,
  disconnectedAt: agents.disconnectedAt,
  outboxDepth: agents.outboxDepth,
  runningCommands: agents.runningCommands,
  enrolledAt: agents.createdAt,
  revokedAt: agents.revokedAt,
  // By site first: cameras are indexed by site, not by agent.
  cameraCount: sql<number>`(select count(*)::int from ${cameras} where ${cameras.siteId} = ${agents.siteId} and ${cameras.agentId} = ${agents.id})`,
};

type AgentRow = Omit<AgentView, 'status'> & { status: string };

function toAgentView(row: AgentRow): AgentView {
  const status = (AGENT_STATUSES as readonly string[]).includes(row.status)
    ? (row.status as AgentStatus)
    : 'offline';
  return { ...row, status: row.revokedAt === null ? status : 'revoked' };
}

/** The agents of the sites the actor may see, or of one of them. */
export async function listAgents(
  db: Database,
  actor: Actor,
  input: { siteId?: string | undefined } = {},
): Promise<AgentView[]> {
  if (input.siteId !== undefined) await requireAccessibleSite(db, actor, input.siteId);
  const rows = await db
    .select(agentColumns)
    .from(agents)
    .innerJoin(sites, eq(sites.id, agents.siteId))
    .where(
      and(
        accessibleSitesCondition(db, actor),
        input.siteId === undefined ? undefined : eq(agents.siteId, input.siteId),
      ),
    )
    .orderBy(asc(sites.name), asc(agents.name), desc(agents.createdAt));
  return rows.map(toAgentView);
}

/** Agents by id, for live updates (no tenancy: the caller filters by site). */
export async function agentViewsByIds(
  db: Database,
  agentIds: readonly string[],
): Promise<AgentView[]> {
  if (agentIds.length === 0) return [];
  const rows = await db
    .select(agentColumns)
    .from(agents)
    .innerJoin(sites, eq(sites.id, agents.siteId))
    .where(inArray(agents.id, [...agentIds]));
  return rows.map(toAgentView);
}

/** The integrator organisation the actor administers and acts for at the site (its first). */
async function requireEnrollingAdmin(
  db: Database,
  actor: Actor,
  siteId: string,
  action: string,
): Promise<string> {
  const [admin] = (await grantedIntegratorOrgIds(db, actor, siteId, ['integrator-admin'])).sort();
  if (admin === undefined) {
    throw new DomainError(
      'forbidden',
      `Only an admin of an integrator with access to this site can ${action}.`,
      { details: { siteId } },
    );
  }
  return admin;
}

/** The sites where the actor may enroll agents: granted to an integrator it administers. */
export async function enrollableSites(
  db: Database,
  actor: Actor,
): Promise<{ id: string; name: string }[]> {
  const adminOf = orgIdsOf(actor, { roles: ['integrator-admin'], kind: 'integrator' });
  if (adminOf.length === 0) return [];
  return db
    .selectDistinct({ id: sites.id, name: sites.name })
    .from(sites)
    .innerJoin(siteGrants, eq(siteGrants.siteId, sites.id))
    .where(and(isNull(siteGrants.revokedAt), inArray(siteGrants.integratorOrgId, adminOf)))
    .orderBy(asc(sites.name), asc(sites.id));
}

/** The environment variable the enrollment command reads the token from. */
export const ENROLL_TOKEN_ENV = 'CUSTODY_ENROLL_TOKEN';

export const ENROLLMENT_TTLS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;
export type EnrollmentTtl = keyof typeof ENROLLMENT_TTLS;

export interface IssuedEnrollment {
  /** Shown once: the database keeps only its hash. */
  token: string;
  tokenId: string;
  siteId: string;
  siteName: string;
  expiresAt: Date;
  tokenEnv: string;
  /** What to run on the agent's machine once the token is in `tokenEnv`. */
  command: string;
}

/** POSIX shell quoting, for a value pasted into a command line. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * An integrator admin with a grant on the site issues a single-use enrollment token. The token
 * goes in an environment variable, never on the command line, so it stays out of `ps` and the
 * shell history of whoever installs the agent.
 */
export async function issueEnrollmentToken(
  db: Database,
  actor: Actor,
  input: { siteId: string; ttl: EnrollmentTtl; serverUrl: string },
): Promise<IssuedEnrollment> {
  const site = await requireAccessibleSite(db, actor, input.siteId);
  const orgId = await requireEnrollingAdmin(db, actor, site.id, 'enroll agents there');
  const created = await db.transaction(async (tx) => {
    const token = await createEnrollmentToken(tx, {
      siteId: site.id,
      createdBy: actor.userId,
      ttlMs: ENROLLMENT_TTLS[input.ttl],
    });
    await appendAuditEvent(tx, {
      orgId,
      siteId: site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'enrollment-token.created',
      subject: { kind: 'enrollment-token', id: token.tokenId },
      data: { ttl: input.ttl, expiresAt: token.expiresAt.toISOString() },
    });
    return token;
  });
  return {
    token: created.token,
    tokenId: created.tokenId,
    siteId: site.id,
    siteName: site.name,
    expiresAt: created.expiresAt,
    tokenEnv: ENROLL_TOKEN_ENV,
    command: `custody-agent enroll --server ${shellQuote(input.serverUrl)} --token-env ${ENROLL_TOKEN_ENV}`,
  };
}

export interface PendingEnrollmentToken {
  id: string;
  siteId: string;
  siteName: string;
  createdAt: Date;
  expiresAt: Date;
  createdByName: string | null;
}

/**
 * Tokens not used and not expired (when they were issued, by whom, until when), of one site or
 * of every site where the actor may enroll agents.
 */
export async function listPendingEnrollmentTokens(
  db: Database,
  actor: Actor,
  input: { siteId?: string | undefined } = {},
): Promise<PendingEnrollmentToken[]> {
  let siteIds: string[];
  if (input.siteId === undefined) {
    siteIds = (await enrollableSites(db, actor)).map((site) => site.id);
  } else {
    const site = await requireAccessibleSite(db, actor, input.siteId);
    await requireEnrollingAdmin(db, actor, site.id, 'see its enrollment tokens');
    siteIds = [site.id];
  }
  if (siteIds.length === 0) return [];
  return db
    .select({
      id: enrollmentTokens.id,
      siteId: enrollmentTokens.siteId,
      siteName: sites.name,
      createdAt: enrollmentTokens.createdAt,
      expiresAt: enrollmentTokens.expiresAt,
      createdByName: users.name,
    })
    .from(enrollmentTokens)
    .innerJoin(sites, eq(sites.id, enrollmentTokens.siteId))
    .leftJoin(users, eq(users.id, enrollmentTokens.createdBy))
    .where(
      and(
        inArray(enrollmentTokens.siteId, siteIds),
        isNull(enrollmentTokens.usedAt),
        gt(enrollmentTokens.expiresAt, sql`now()`),
      ),
    )
    .orderBy(asc(sites.name), asc(enrollmentTokens.expiresAt));
}

/**
 * An integrator admin with a grant on the agent's site revokes it. The gateway refuses it from
 * now on and the process holding its connection closes it at once (through the database, so
 * whichever process that is); its unfinished commands are cancelled.
 */
export async function revokeAgentFor(
  db: Database,
  actor: Actor,
  agentId: string,
): Promise<AgentView> {
  const [agent] = await db
    .select({ id: agents.id, siteId: agents.siteId })
    .from(agents)
    .innerJoin(sites, eq(sites.id, agents.siteId))
    .where(and(eq(agents.id, agentId), accessibleSitesCondition(db, actor)));
  if (!agent) throw new DomainError('not-found', 'No such agent.', { details: { agentId } });
  const orgId = await requireEnrollingAdmin(db, actor, agent.siteId, 'revoke its agents');
  const revoked = await revokeAgent(db, { agentId: agent.id, revokedBy: actor.userId, orgId });
  if (!revoked) {
    throw new DomainError('conflict', 'This agent is already revoked.', { details: { agentId } });
  }
  const [view] = await agentViewsByIds(db, [agent.id]);
  if (!view) throw new DomainError('not-found', 'No such agent.', { details: { agentId } });
  return view;
}
