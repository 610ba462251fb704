import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import {
  CommandParamsSchemas,
  CommandVerbSchema,
  DomainError,
  credentialRefsOf,
  isDestructiveVerb,
  parseSerial,
  type ApprovalBinding,
  type CommandVerb,
} from '@custody/core';
import type { Database } from '@custody/db';
// The schema entry only: queueCommand is reachable from route code, which must not bundle createDb.
import * as schema from '@custody/db/schema';
import { userReachesSite } from './command-access.ts';
import { notifyCommandQueued, notifyFleet } from './notifications.ts';

const { agents, approvalGrants, cameras, commands } = schema;

export const DEFAULT_COMMAND_TTL_MS = 10 * 60 * 1000;
const MAX_COMMAND_TTL_MS = 24 * 60 * 60 * 1000;

export interface QueueCommandInput {
  agentId: string;
  serial: string;
  verb: CommandVerb;
  params: Record<string, unknown>;
  /**
   * Credential reference → vault entry, for every credential the params name. The secrets are
   * resolved only when the command is sent, and never stored with it.
   */
  secretsRef?: Readonly<Record<string, string>> | undefined;
  /** Required for a destructive verb: the owner's approval, consumed by this command. */
  approvalGrantId?: string | null | undefined;
  /**
   * The user asking, who must be able to act at the agent's site (checked again when it is sent);
   * null for commands the system or an agent queues.
   */
  requestedBy: string | null;
  caseId?: string | null | undefined;
  /** How long the command may wait to be sent and started; 10 minutes by default. */
  ttlMs?: number | undefined;
}

export interface QueuedCommand {
  commandId: string;
  expiresAt: Date;
}

/** The signed payload without `secrets`, as stored in commands.payload. */
export interface StoredPayload {
  commandId: string;
  agentId: string;
  siteId: string;
  serial: string;
  url?: string;
  verb: CommandVerb;
  params: Record<string, unknown>;
  approval: ApprovalBinding | null;
  issuedAt: string;
  expiresAt: string;
  nonce: string;
}

function invalid(message: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('invalid-input', message, { details });
}

/**
 * Queues a command for an agent and wakes the server process that holds its connection (any
 * process on the database: the NOTIFY goes out on commit). Validates what the agent would
 * refuse anyway, so a mistake shows up here and not as a refusal minutes later.
 */
export async function queueCommand(db: Database, input: QueueCommandInput): Promise<QueuedCommand> {
  const verb = CommandVerbSchema.safeParse(input.verb);
  if (!verb.success) throw invalid(`Unknown verb "${String(input.verb)}".`);
  const serial = parseSerial(input.serial);
  if (!serial.ok) throw invalid(serial.error.message);
  const params = CommandParamsSchemas[verb.data].safeParse(input.params);
  if (!params.success) {
    const problems = params.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`);
    throw invalid(`Invalid ${verb.data} parameters: ${problems.join('; ')}`);
  }
  const secretsRef = { ...input.secretsRef };
  const refs = credentialRefsOf(verb.data, params.data);
  const missing = refs.filter((ref) => !Object.hasOwn(secretsRef, ref));
  const unused = Object.keys(secretsRef).filter((ref) => !refs.includes(ref));
  if (missing.length > 0 || unused.length > 0) {
    throw invalid('The secret references do not match the credentials the parameters name.', {
      missing,
      unused,
    });
  }
  const ttlMs = input.ttlMs ?? DEFAULT_COMMAND_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1_000 || ttlMs > MAX_COMMAND_TTL_MS) {
    throw invalid('A command lives between one second and a day.', { ttlMs });
  }
  const grantId = input.approvalGrantId ?? null;
  if (isDestructiveVerb(verb.data) && grantId === null) {
    throw new DomainError('approval-refused', `A ${verb.data} command needs an owner's approval.`);
  }
  if (!isDestructiveVerb(verb.data) && grantId !== null) {
    throw invalid(`A ${verb.data} command does not take an approval.`);
  }

  return db.transaction(async (tx) => {
    const [agent] = await tx
      .select({ id: agents.id, siteId: agents.siteId, revokedAt: agents.revokedAt })
      .from(agents)
      .where(eq(agents.id, input.agentId));
    if (agent === undefined) throw invalid('There is no such agent.', { agentId: input.agentId });
    if (agent.revokedAt !== null) throw invalid('The agent was revoked.', { agentId: agent.id });
    if (input.requestedBy !== null) {
      const [reach] = await tx
        .select({ allowed: sql<boolean>`${userReachesSite(input.requestedBy, agent.siteId)}` })
        .from(agents)
        .where(eq(agents.id, agent.id));
      if (reach?.allowed !== true) {
        throw new DomainError('forbidden', 'You no longer have access to this agent’s site.', {
          details: { agentId: agent.id },
        });
      }
    }
    const [camera] = await tx
      .select({ siteId: cameras.siteId, url: cameras.url })
      .from(cameras)
      .where(eq(cameras.serial, serial.value));
    if (camera !== undefined && camera.siteId !== agent.siteId) {
      throw invalid('The camera is registered to another site than the agent.', {
        serial: serial.value,
      });
    }

    const commandId = randomUUID();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    let approval: ApprovalBinding | null = null;
    if (grantId !== null) {
      const [grant] = await tx
        .update(approvalGrants)
        .set({ usedAt: now, usedByCommandId: commandId })
        .where(
          and(
            eq(approvalGrants.id, grantId),
            isNull(approvalGrants.usedAt),
            gt(approvalGrants.expiresAt, now),
          ),
        )
        .returning();
      if (grant === undefined) {
        throw new DomainError('approval-refused', 'The approval is unknown, used or expired.');
      }
      if (
        grant.verb !== verb.data ||
        grant.serial !== serial.value ||
        grant.siteId !== agent.siteId ||
        grant.agentId !== agent.id
      ) {
        throw new DomainError(
          'approval-refused',
          'The approval was given for another action, camera, site or agent.',
        );
      }
      approval = {
        grantId: grant.id,
        action: verb.data as ApprovalBinding['action'],
        serial: grant.serial,
        siteId: grant.siteId,
        agentId: grant.agentId,
        expiresAt: grant.expiresAt.toISOString(),
      };
    }

    const payload: StoredPayload = {
      commandId,
      agentId: agent.id,
      siteId: agent.siteId,
      serial: serial.value,
      ...(camera?.url ? { url: camera.url } : {}),
      verb: verb.data,
      params: params.data,
      approval,
      issuedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      nonce: randomBytes(24).toString('base64url'),
    };
    await tx.insert(commands).values({
      id: commandId,
      agentId: agent.id,
      serial: serial.value,
      verb: verb.data,
      params: payload.params,
      approvalGrantId: grantId,
      caseId: input.caseId ?? null,
      requestedBy: input.requestedBy,
      payload,
      secretsRef: Object.keys(secretsRef).length > 0 ? secretsRef : null,
      nonce: payload.nonce,
      issuedAt: now,
      expiresAt,
      queuedAt: now,
    });
    await notifyCommandQueued(tx, agent.id);
    await notifyFleet(tx, { event: 'command', agentId: agent.id, commandId });
    return { commandId, expiresAt };
  });
}
