import { createHash, randomBytes } from 'node:crypto';
import { DomainError, type OrgKind, type Role } from '@custody/core';
import type { Database } from '@custody/db';
import {
  integratorClients,
  invitations,
  memberships,
  organisations,
  users,
} from '@custody/db/schema';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { hasRoleIn, orgIdsOf, requireRoleIn } from './access.ts';
import { createPasswordUser, findUserByEmail, normaliseEmail } from './accounts.ts';
import type { Actor } from './actor.ts';
import { appendAuditEvent } from './audit-log.ts';
import type { Executor } from './executor.ts';
import { isRoleAllowedIn } from './roles.ts';

export const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** The page an invitation link opens; the token follows in the fragment. */
export const INVITE_PATH = '/invite';

export type OrganisationRelation = 'member' | 'client' | 'serving-integrator';

export interface OrganisationSummary {
  id: string;
  name: string;
  kind: OrgKind;
  /** The actor's roles in it (empty for a client or a serving integrator). */
  roles: Role[];
  relation: OrganisationRelation;
}

/**
 * The organisations the actor belongs to, the owner organisations its integrators serve
 * (clients), and the integrators serving its owner organisations.
 */
export async function listOrganisations(
  db: Database,
  actor: Actor,
): Promise<OrganisationSummary[]> {
  const byId = new Map<string, OrganisationSummary>();
  for (const m of actor.memberships) {
    const entry = byId.get(m.orgId) ?? {
      id: m.orgId,
      name: m.orgName,
      kind: m.orgKind,
      roles: [],
      relation: 'member' as const,
    };
    entry.roles.push(m.role);
    byId.set(m.orgId, entry);
  }
  const integratorIds = orgIdsOf(actor, { kind: 'integrator' });
  if (integratorIds.length > 0) {
    const clients = await db
      .select({ id: organisations.id, name: organisations.name, kind: organisations.kind })
      .from(integratorClients)
      .innerJoin(organisations, eq(organisations.id, integratorClients.ownerOrgId))
      .where(inArray(integratorClients.integratorOrgId, integratorIds));
    for (const org of clients) {
      if (!byId.has(org.id)) byId.set(org.id, { ...org, roles: [], relation: 'client' });
    }
  }
  const ownerIds = orgIdsOf(actor, { kind: 'owner' });
  if (ownerIds.length > 0) {
    const serving = await db
      .select({ id: organisations.id, name: organisations.name, kind: organisations.kind })
      .from(integratorClients)
      .innerJoin(organisations, eq(organisations.id, integratorClients.integratorOrgId))
      .where(inArray(integratorClients.ownerOrgId, ownerIds));
    for (const org of serving) {
      if (!byId.has(org.id))
        byId.set(org.id, { ...org, roles: [], relation: 'serving-integrator' });
    }
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The integrator organisations where the actor is admin and that serve `ownerOrgId`. */
export async function servingAdminIntegrators(db: Executor, actor: Actor, ownerOrgId: string) {
  const adminOf = orgIdsOf(actor, { roles: ['integrator-admin'], kind: 'integrator' });
  if (adminOf.length === 0) return [];
  const rows = await db
    .select({ integratorOrgId: integratorClients.integratorOrgId })
    .from(integratorClients)
    .where(
      and(
        eq(integratorClients.ownerOrgId, ownerOrgId),
        inArray(integratorClients.integratorOrgId, adminOf),
      ),
    )
    .orderBy(asc(integratorClients.integratorOrgId));
  return rows.map((row) => row.integratorOrgId);
}

/** The integrator organisation an integrator admin acts for: given, or the only one. */
export function actingIntegratorOrg(actor: Actor, given: string | undefined): string {
  const adminOf = orgIdsOf(actor, { roles: ['integrator-admin'], kind: 'integrator' });
  if (given) {
    requireRoleIn(actor, given, ['integrator-admin'], 'act for this integrator');
    return given;
  }
  const [only, ...others] = adminOf;
  if (!only) {
    throw new DomainError('forbidden', 'Only an integrator admin can do this.');
  }
  if (others.length > 0) {
    throw new DomainError('invalid-input', 'Choose which of your integrators acts.', {
      details: { field: 'integratorOrgId' },
    });
  }
  return only;
}

/**
 * An integrator admin creates either another integrator organisation (and becomes its admin)
 * or an owner organisation for a client, which its integrator then serves.
 */
export async function createOrganisation(
  db: Database,
  actor: Actor,
  input: { name: string; kind: OrgKind; integratorOrgId?: string | undefined },
) {
  const integratorOrgId = actingIntegratorOrg(actor, input.integratorOrgId);
  return db.transaction(async (tx) => {
    const [org] = await tx
      .insert(organisations)
      .values({ name: input.name, kind: input.kind })
      .returning();
    if (!org) throw new Error('Inserting an organisation returned no row');
    if (input.kind === 'integrator') {
      await tx
        .insert(memberships)
        .values({ userId: actor.userId, orgId: org.id, role: 'integrator-admin' });
    } else {
      await tx
        .insert(integratorClients)
        .values({ integratorOrgId, ownerOrgId: org.id, createdBy: actor.userId });
    }
    await appendAuditEvent(tx, {
      orgId: integratorOrgId,
      actor: { kind: 'user', id: actor.userId },
      action: 'organisation.created',
      subject: { kind: 'organisation', id: org.id },
      data: { name: org.name, kind: org.kind },
    });
    return org;
  });
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Who may invite into an organisation: its integrator admins (integrator organisation), its
 * owner approvers (owner organisation), and, until a client's owner organisation has an owner
 * approver of its own, the admins of an integrator serving it.
 */
async function requireInviter(db: Executor, actor: Actor, org: { id: string; kind: OrgKind }) {
  const adminRole: Role = org.kind === 'integrator' ? 'integrator-admin' : 'owner-approver';
  if (hasRoleIn(actor, org.id, [adminRole])) return;
  const isMember = actor.memberships.some((m) => m.orgId === org.id);
  const serving = org.kind === 'owner' ? await servingAdminIntegrators(db, actor, org.id) : [];
  if (!isMember && serving.length === 0) {
    throw new DomainError('not-found', 'No such organisation.', { details: { orgId: org.id } });
  }
  if (serving.length > 0) {
    const [approver] = await db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.orgId, org.id), eq(memberships.role, 'owner-approver')))
      .limit(1);
    if (!approver) return;
  }
  throw new DomainError(
    'forbidden',
    `Only a ${adminRole} of this organisation can invite members.`,
  );
}

export interface CreatedInvitation {
  id: string;
  /** Shown once to the inviter, who passes it on; only its hash is stored. */
  token: string;
  expiresAt: Date;
}

export async function inviteMember(
  db: Database,
  actor: Actor,
  input: { orgId: string; email: string; role: Role },
  now: Date = new Date(),
): Promise<CreatedInvitation> {
  const [org] = await db.select().from(organisations).where(eq(organisations.id, input.orgId));
  if (!org)
    throw new DomainError('not-found', 'No such organisation.', {
      details: { orgId: input.orgId },
    });
  await requireInviter(db, actor, org);
  if (!isRoleAllowedIn(input.role, org.kind)) {
    throw new DomainError('invalid-input', `An ${org.kind} organisation has no ${input.role}.`, {
      details: { field: 'role' },
    });
  }
  const email = normaliseEmail(input.email);
  const [already] = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(
      and(
        eq(memberships.orgId, org.id),
        eq(memberships.role, input.role),
        sql`lower(${users.email}) = ${email}`,
      ),
    );
  if (already) {
    throw new DomainError('conflict', `${email} is already ${input.role} here.`, {
      details: { field: 'email' },
    });
  }
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + INVITATION_LIFETIME_MS);
  const invitation = await db.transaction(async (tx) => {
    // A new invitation for the same person and role replaces a pending one.
    const replaced = await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.orgId, org.id),
          eq(invitations.role, input.role),
          sql`lower(${invitations.email}) = ${email}`,
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning({ id: invitations.id });
    for (const old of replaced) {
      await appendAuditEvent(tx, {
        orgId: org.id,
        actor: { kind: 'user', id: actor.userId },
        action: 'invitation.revoked',
        subject: { kind: 'invitation', id: old.id },
        data: { email, role: input.role, reason: 'replaced' },
      });
    }
    const [row] = await tx
      .insert(invitations)
      .values({
        orgId: org.id,
        email,
        role: input.role,
        tokenHash: hashToken(token),
        invitedBy: actor.userId,
        createdAt: now,
        expiresAt,
      })
      .returning({ id: invitations.id });
    if (row) {
      await appendAuditEvent(tx, {
        orgId: org.id,
        actor: { kind: 'user', id: actor.userId },
        action: 'invitation.created',
        subject: { kind: 'invitation', id: row.id },
        data: { email, role: input.role, expiresAt: expiresAt.toISOString() },
      });
    }
    return row;
  });
  if (!invitation) throw new Error('Inserting an invitation returned no row');
  return { id: invitation.id, token, expiresAt };
}

export type InvitationState = 'pending' | 'accepted' | 'revoked' | 'expired';

function invitationState(
  row: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date },
  now: Date,
): InvitationState {
  if (row.acceptedAt !== null) return 'accepted';
  if (row.revokedAt !== null) return 'revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'pending';
}

const UNUSABLE: Record<Exclude<InvitationState, 'pending'>, string> = {
  accepted: 'This invitation was already accepted. Sign in with the account that accepted it.',
  revoked: 'This invitation was withdrawn or replaced by a newer one. Ask whoever invited you.',
  expired: 'This invitation has expired. Ask whoever invited you for a new one.',
};

/**
 * The invitation a token names, if it can still be accepted. Whoever holds the token learns
 * why it cannot (used, withdrawn, expired); without it, nothing about any invitation.
 */
async function findPendingInvitation(db: Executor, token: string, now: Date) {
  const [row] = await db
    .select({
      id: invitations.id,
      orgId: invitations.orgId,
      email: invitations.email,
      role: invitations.role,
      orgName: organisations.name,
      expiresAt: invitations.expiresAt,
      acceptedAt: invitations.acceptedAt,
      revokedAt: invitations.revokedAt,
    })
    .from(invitations)
    .innerJoin(organisations, eq(organisations.id, invitations.orgId))
    .where(eq(invitations.tokenHash, hashToken(token)));
  if (!row) {
    throw new DomainError(
      'not-found',
      'This invitation link is not valid. Check that it was copied whole, or ask for a new one.',
      { details: { reason: 'unknown' } },
    );
  }
  const state = invitationState(row, now);
  if (state !== 'pending') {
    throw new DomainError('not-found', UNUSABLE[state], { details: { reason: state } });
  }
  return row;
}

/** What an invitation link offers, for the page that accepts it. */
export async function describeInvitation(db: Database, token: string, now: Date = new Date()) {
  const invitation = await findPendingInvitation(db, token, now);
  const existing = await findUserByEmail(db, invitation.email);
  return {
    email: invitation.email,
    role: invitation.role,
    organisationName: invitation.orgName,
    hasAccount: existing !== undefined,
    expiresAt: invitation.expiresAt,
  };
}

/**
 * Accepts an invitation: a signed-in user whose e-mail matches joins with the role; someone
 * without an account gets one with the password they chose. An existing account must sign in
 * first, so an invitation link alone never grants access to it.
 */
export async function acceptInvitation(
  db: Database,
  actor: Actor | null,
  input: { token: string; name?: string | undefined; password?: string | undefined },
  now: Date = new Date(),
): Promise<{ orgId: string; role: Role; createdAccount: boolean }> {
  return db.transaction(async (tx) => {
    const invitation = await findPendingInvitation(tx, input.token, now);
    let userId: string;
    let createdAccount = false;
    if (actor) {
      if (normaliseEmail(actor.email) !== invitation.email) {
        throw new DomainError('forbidden', `This invitation is for ${invitation.email}.`);
      }
      userId = actor.userId;
    } else {
      if (await findUserByEmail(tx, invitation.email)) {
        throw new DomainError(
          'forbidden',
          `Sign in as ${invitation.email} to accept this invitation.`,
        );
      }
      if (!input.name || !input.password) {
        throw new DomainError('invalid-input', 'Give your name and choose a password.', {
          details: { field: input.name ? 'password' : 'name' },
        });
      }
      const user = await createPasswordUser(tx, {
        email: invitation.email,
        name: input.name,
        password: input.password,
        passwordChangeRequired: false,
      });
      userId = user.id;
      createdAccount = true;
    }
    await tx
      .insert(memberships)
      .values({ userId, orgId: invitation.orgId, role: invitation.role })
      .onConflictDoNothing();
    // Of two acceptances racing with one link, one wins; the other rolls back, account and all.
    const [accepted] = await tx
      .update(invitations)
      .set({ acceptedAt: now, acceptedBy: userId })
      .where(
        and(
          eq(invitations.id, invitation.id),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning({ id: invitations.id });
    if (!accepted) {
      throw new DomainError('conflict', 'This invitation was accepted or withdrawn meanwhile.');
    }
    await appendAuditEvent(tx, {
      orgId: invitation.orgId,
      actor: { kind: 'user', id: userId },
      action: 'invitation.accepted',
      subject: { kind: 'invitation', id: invitation.id },
      data: { email: invitation.email, role: invitation.role, createdAccount },
    });
    return { orgId: invitation.orgId, role: invitation.role, createdAccount };
  });
}

/** The organisations the actor may invite members into (see requireInviter). */
export async function invitableOrganisations(
  db: Database,
  actor: Actor,
): Promise<{ id: string; name: string; kind: OrgKind }[]> {
  const candidates = await listOrganisations(db, actor);
  const allowed: { id: string; name: string; kind: OrgKind }[] = [];
  for (const org of candidates) {
    if (org.relation === 'serving-integrator') continue;
    try {
      await requireInviter(db, actor, org);
      allowed.push({ id: org.id, name: org.name, kind: org.kind });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return allowed;
}

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  state: InvitationState;
  invitedByName: string;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

async function requireInvitableOrg(db: Database, actor: Actor, orgId: string) {
  const [org] = await db.select().from(organisations).where(eq(organisations.id, orgId));
  if (!org) throw new DomainError('not-found', 'No such organisation.', { details: { orgId } });
  await requireInviter(db, actor, org);
  return org;
}

/** The invitations of an organisation, newest first, for whoever may invite into it. */
export async function listInvitations(
  db: Database,
  actor: Actor,
  input: { orgId: string },
  now: Date = new Date(),
): Promise<InvitationView[]> {
  const org = await requireInvitableOrg(db, actor, input.orgId);
  const rows = await db
    .select({
      id: invitations.id,
      email: invitations.email,
      role: invitations.role,
      invitedByName: users.name,
      createdAt: invitations.createdAt,
      expiresAt: invitations.expiresAt,
      acceptedAt: invitations.acceptedAt,
      revokedAt: invitations.revokedAt,
    })
    .from(invitations)
    .innerJoin(users, eq(users.id, invitations.invitedBy))
    .where(eq(invitations.orgId, org.id))
    .orderBy(desc(invitations.createdAt))
    .limit(200);
  return rows.map((row) => ({ ...row, state: invitationState(row, now) }));
}

/** Withdraws a pending invitation: its link stops working at once. */
export async function revokeInvitation(
  db: Database,
  actor: Actor,
  input: { invitationId: string },
  now: Date = new Date(),
): Promise<{ revokedAt: Date }> {
  const [invitation] = await db
    .select({ id: invitations.id, orgId: invitations.orgId })
    .from(invitations)
    .where(eq(invitations.id, input.invitationId));
  if (!invitation) {
    throw new DomainError('not-found', 'No such invitation.', {
      details: { invitationId: input.invitationId },
    });
  }
  await requireInvitableOrg(db, actor, invitation.orgId);
  return db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.id, invitation.id),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning({ email: invitations.email, role: invitations.role });
    if (!revoked) {
      throw new DomainError('conflict', 'This invitation was already accepted or withdrawn.');
    }
    await appendAuditEvent(tx, {
      orgId: invitation.orgId,
      actor: { kind: 'user', id: actor.userId },
      action: 'invitation.revoked',
      subject: { kind: 'invitation', id: invitation.id },
      data: { email: revoked.email, role: revoked.role, reason: 'withdrawn' },
    });
    return { revokedAt: now };
  });
}

/**
 * The owner organisations the actor can create a site for: its own, as owner approver, and
 * the clients of integrators it administers.
 */
export async function listSiteOwnerChoices(db: Database, actor: Actor) {
  const own = actor.memberships
    .filter((m) => m.role === 'owner-approver')
    .map((m) => ({ id: m.orgId, name: m.orgName }));
  const adminOf = orgIdsOf(actor, { roles: ['integrator-admin'], kind: 'integrator' });
  const clients =
    adminOf.length === 0
      ? []
      : await db
          .selectDistinct({ id: organisations.id, name: organisations.name })
          .from(integratorClients)
          .innerJoin(organisations, eq(organisations.id, integratorClients.ownerOrgId))
          .where(inArray(integratorClients.integratorOrgId, adminOf));
  const byId = new Map([...own, ...clients].map((org) => [org.id, org]));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
