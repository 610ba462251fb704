import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
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
import { notifyCommandQueued, notifyCommandsChanged, notifyFleet } from './notifications.ts';

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

interface CheckedInput {
  verb: CommandVerb;
  serial: string;
  params: Record<string, unknown>;
  secretsRef: Record<string, string>;
  ttlMs: number;
  grantId: string | null;
}

/** What the agent would refuse anyway, checked before anything is written. */
function checkInput(input: QueueCommandInput): CheckedInput {
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
  return {
    verb: verb.data,
    serial: serial.value,
    params: params.data,
    secretsRef,
    ttlMs,
    grantId,
  };
}

/**
 * Queues a command for an agent and wakes the server process that holds its connection (any
 * process on the database: the NOTIFY goes out on commit). Validates what the agent would
 * refuse anyway, so a mistake shows up here and not as a refusal minutes later.
 */
export async function queueCommand(db: Database, input: QueueCommandInput): Promise<QueuedCommand> {
  const checked = checkInput(input);
  const { secretsRef, ttlMs, grantId } = checked;

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
      .where(eq(cameras.serial, checked.serial));
    if (camera !== undefined && camera.siteId !== agent.siteId) {
      throw invalid('The camera is registered to another site than the agent.', {
        serial: checked.serial,
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
        grant.verb !== checked.verb ||
        grant.serial !== checked.serial ||
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
        action: checked.verb as ApprovalBinding['action'],
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
      serial: checked.serial,
      ...(camera?.url ? { url: camera.url } : {}),
      verb: checked.verb,
      params: checked.params,
      approval,
      issuedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      nonce: randomBytes(24).toString('base64url'),
    };
    await tx.insert(commands).values({
      id: commandId,
      agentId: agent.id,
      serial: checked.serial,
      verb: checked.verb,
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
    await notifyFleet(tx, { event: 'command', agentId: agent.id, commandId, finished: false });
    return { commandId, expiresAt };
  });
}

/** Command rows per insert statement when queueing many. */
const INSERT_CHUNK = 500;

/**
 * queueCommand for many commands, in one transaction and a few statements in all instead of a
 * handful per command: what a bulk operation queues per wave. The same checks, all or nothing.
 * Destructive verbs are refused here: their approvals are consumed one at a time (queueCommand).
 */
export async function queueCommands(
  db: Database,
  inputs: readonly QueueCommandInput[],
): Promise<QueuedCommand[]> {
  if (inputs.length === 0) return [];
  const checked = inputs.map((input) => {
    if (isDestructiveVerb(input.verb)) {
      throw invalid(`A ${input.verb} command is queued on its own, with its approval.`);
    }
    return checkInput(input);
  });
  return db.transaction(async (tx) => {
    const agentRows = await tx
      .select({ id: agents.id, siteId: agents.siteId, revokedAt: agents.revokedAt })
      .from(agents)
      .where(inArray(agents.id, [...new Set(inputs.map((input) => input.agentId))]));
    const agentsById = new Map(agentRows.map((agent) => [agent.id, agent]));
    const siteOf = (input: QueueCommandInput): string => {
      const agent = agentsById.get(input.agentId);
      if (agent === undefined) throw invalid('There is no such agent.', { agentId: input.agentId });
      if (agent.revokedAt !== null) throw invalid('The agent was revoked.', { agentId: agent.id });
      return agent.siteId;
    };
    const reaches = new Map<string, { userId: string; siteId: string; agentId: string }>();
    for (const input of inputs) {
      const siteId = siteOf(input);
      if (input.requestedBy === null) continue;
      reaches.set(`${input.requestedBy}|${siteId}`, {
        userId: input.requestedBy,
        siteId,
        agentId: input.agentId,
      });
    }
    // One check per person and site (a bulk operation has one person and a few sites).
    for (const { userId, siteId, agentId } of reaches.values()) {
      const [reach] = await tx
        .select({ allowed: sql<boolean>`${userReachesSite(userId, siteId)}` })
        .from(agents)
        .where(eq(agents.id, agentId));
      if (reach?.allowed !== true) {
        throw new DomainError('forbidden', 'You no longer have access to this agent’s site.', {
          details: { agentId },
        });
      }
    }
    const cameraRows = await tx
      .select({ serial: cameras.serial, siteId: cameras.siteId, url: cameras.url })
      .from(cameras)
      .where(inArray(cameras.serial, [...new Set(checked.map((command) => command.serial))]));
    const camerasBySerial = new Map(cameraRows.map((camera) => [camera.serial, camera]));

    const now = new Date();
    const rows = inputs.map((input, index) => {
      const command = checked[index]!;
      const siteId = siteOf(input);
      const camera = camerasBySerial.get(command.serial);
      if (camera !== undefined && camera.siteId !== siteId) {
        throw invalid('The camera is registered to another site than the agent.', {
          serial: command.serial,
        });
      }
      const commandId = randomUUID();
      const expiresAt = new Date(now.getTime() + command.ttlMs);
      const payload: StoredPayload = {
        commandId,
        agentId: input.agentId,
        siteId,
        serial: command.serial,
        ...(camera?.url ? { url: camera.url } : {}),
        verb: command.verb,
        params: command.params,
        approval: null,
        issuedAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        nonce: randomBytes(24).toString('base64url'),
      };
      return {
        id: commandId,
        agentId: input.agentId,
        serial: command.serial,
        verb: command.verb,
        params: payload.params,
        approvalGrantId: null,
        caseId: input.caseId ?? null,
        requestedBy: input.requestedBy,
        payload,
        secretsRef: Object.keys(command.secretsRef).length > 0 ? command.secretsRef : null,
        nonce: payload.nonce,
        issuedAt: now,
        expiresAt,
        queuedAt: now,
      };
    });
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      await tx.insert(commands).values(rows.slice(start, start + INSERT_CHUNK));
    }
    for (const agentId of new Set(rows.map((row) => row.agentId))) {
      await notifyCommandQueued(tx, agentId);
    }
    await notifyCommandsChanged(
      tx,
      rows.map((row) => ({ agentId: row.agentId, commandId: row.id })),
      false,
    );
    return rows.map((row) => ({ commandId: row.id, expiresAt: row.expiresAt }));
  });
}
