import { and, asc, desc, eq, gt, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import {
  AuditEventContentSchema,
  DomainError,
  GENESIS_HASH,
  createAuditEvent,
  verifyAuditChain,
  type ActorKind,
  type AuditEvent,
  type AuditEventContent,
} from '@custody/core';
import type { Database } from '@custody/db';
// The schema entry, not the package root: route code reaches this file, and the root's
// createDb names the migrations folder, which Next cannot bundle.
import { auditEvents } from '@custody/db/schema';

/** A transaction or the database: appends must run inside the caller's transaction. */
type Executor = Pick<Database, 'select' | 'insert' | 'execute'>;

/**
 * One chain for the whole installation. Appends take this transaction-scoped advisory lock, so
 * concurrent transactions (on any server process) link one after another, and a rolled-back
 * transaction leaves no gap: the sequence is computed, not drawn from a PostgreSQL sequence.
 */
const AUDIT_CHAIN_LOCK = 0x637573746f6479n; // "custody"

export interface AuditEntry {
  /** The organisation on whose behalf the actor acted; null for system events. */
  orgId: string | null;
  /** The site the event concerns, when there is one: owners see events on their sites. */
  siteId?: string | null | undefined;
  actor: { kind: ActorKind; id: string };
  /** Dotted verb phrase: "case.opened", "grant.revoked", "credential.revealed". */
  action: string;
  subject: { kind: string; id: string };
  /** Canonical-JSON data: never a secret. */
  data?: Record<string, unknown> | undefined;
  at?: Date | undefined;
}

export interface StoredAuditEvent extends AuditEvent {
  id: string;
  orgId: string | null;
  siteId: string | null;
}

export class AuditWriteError extends DomainError {
  constructor(message: string, cause: unknown) {
    super('conflict', message, { cause });
  }
}

/**
 * Appends an event to the hash chain inside `tx`. It fails closed: any error propagates, so the
 * caller's transaction, and whatever it was about to do, rolls back with it. Callers put the
 * audited change and this append in the same transaction.
 */
export async function appendAuditEvent(tx: Executor, entry: AuditEntry): Promise<StoredAuditEvent> {
  const content = AuditEventContentSchema.safeParse({
    at: (entry.at ?? new Date()).toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    data: entry.data ?? {},
  });
  if (!content.success) {
    throw new DomainError('invalid-input', `Malformed audit event "${entry.action}".`, {
      cause: content.error,
    });
  }
  try {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
    const [head] = await tx
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1);
    const event = createAuditEvent(content.data, head);
    const actorId = entry.actor.kind === 'user' ? entry.actor.id : null;
    const [row] = await tx
      .insert(auditEvents)
      .values({
        seq: event.seq,
        orgId: entry.orgId,
        siteId: entry.siteId ?? null,
        actorId,
        action: content.data.action,
        subjectType: content.data.subject.kind,
        subjectId: content.data.subject.id,
        payload: event.content,
        at: new Date(content.data.at),
        prevHash: event.prevHash,
        hash: event.hash,
      })
      .returning({ id: auditEvents.id });
    if (row === undefined) throw new Error('the insert returned no row');
    return { ...event, id: row.id, orgId: entry.orgId, siteId: entry.siteId ?? null };
  } catch (error) {
    throw new AuditWriteError(
      `The audit log could not record "${entry.action}", so it was not done.`,
      error,
    );
  }
}

/** Rows per insert statement when appending many events (well under the bind-parameter limit). */
const AUDIT_INSERT_CHUNK = 500;

/**
 * Appends several events to the hash chain inside `tx`, in order, with one lock, one read of
 * the chain's head and one insert per 500 events: what a bulk operation audits per camera.
 * Fails closed like appendAuditEvent: nothing is appended unless every event is.
 */
export async function appendAuditEvents(
  tx: Executor,
  entries: readonly AuditEntry[],
): Promise<StoredAuditEvent[]> {
  if (entries.length === 0) return [];
  const contents = entries.map((entry) => {
    const content = AuditEventContentSchema.safeParse({
      at: (entry.at ?? new Date()).toISOString(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      data: entry.data ?? {},
    });
    if (!content.success) {
      throw new DomainError('invalid-input', `Malformed audit event "${entry.action}".`, {
        cause: content.error,
      });
    }
    return content.data;
  });
  try {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
    const [head] = await tx
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1);
    let previous: Pick<AuditEvent, 'seq' | 'hash'> | undefined = head;
    const events = contents.map((content) => {
      const event = createAuditEvent(content, previous);
      previous = event;
      return event;
    });
    const stored: StoredAuditEvent[] = [];
    for (let start = 0; start < events.length; start += AUDIT_INSERT_CHUNK) {
      const chunk = events.slice(start, start + AUDIT_INSERT_CHUNK);
      const rows = await tx
        .insert(auditEvents)
        .values(
          chunk.map((event, index) => {
            const entry = entries[start + index]!;
            return {
              seq: event.seq,
              orgId: entry.orgId,
              siteId: entry.siteId ?? null,
              actorId: entry.actor.kind === 'user' ? entry.actor.id : null,
              action: event.content.action,
              subjectType: event.content.subject.kind,
              subjectId: event.content.subject.id,
              payload: event.content,
              at: new Date(event.content.at),
              prevHash: event.prevHash,
              hash: event.hash,
            };
          }),
        )
        .returning({ id: auditEvents.id, seq: auditEvents.seq });
      const ids = new Map(rows.map((row) => [row.seq, row.id]));
      chunk.forEach((event, index) => {
        const entry = entries[start + index]!;
        const id = ids.get(event.seq);
        if (id === undefined) throw new Error('the insert returned no row');
        stored.push({ ...event, id, orgId: entry.orgId, siteId: entry.siteId ?? null });
      });
    }
    return stored;
  } catch (error) {
    throw new AuditWriteError(
      `The audit log could not record ${entries.length} events (first "${entries[0]?.action}"), so nothing was done.`,
      error,
    );
  }
}

type AuditRow = typeof auditEvents.$inferSelect;

function toStored(row: AuditRow): StoredAuditEvent {
  return {
    id: row.id,
    orgId: row.orgId,
    siteId: row.siteId,
    seq: row.seq,
    prevHash: row.prevHash,
    hash: row.hash,
    content: row.payload as AuditEventContent,
  };
}

export interface AuditScope {
  /** Events acted for these organisations… */
  orgIds: readonly string[];
  /** …or concerning these sites… */
  siteIds: readonly string[];
  /** …or done by, or about the accounts of, these users. */
  userIds?: readonly string[] | undefined;
}

export interface ListAuditEventsInput {
  scope: AuditScope | 'all';
  subject?: { kind: string; id: string } | undefined;
  action?: string | undefined;
  /** Newest first; pass the last seq seen to page back. */
  beforeSeq?: number | undefined;
  limit?: number | undefined;
}

function scopeFilter(scope: AuditScope | 'all'): SQL | undefined {
  if (scope === 'all') return undefined;
  const parts: SQL[] = [];
  if (scope.orgIds.length > 0) parts.push(inArray(auditEvents.orgId, [...scope.orgIds]));
  if (scope.siteIds.length > 0) parts.push(inArray(auditEvents.siteId, [...scope.siteIds]));
  if (scope.userIds !== undefined && scope.userIds.length > 0) {
    const userIds = [...scope.userIds];
    parts.push(inArray(auditEvents.actorId, userIds));
    parts.push(
      and(eq(auditEvents.subjectType, 'user'), inArray(auditEvents.subjectId, userIds)) as SQL,
    );
  }
  return parts.length === 0 ? sql`false` : or(...parts);
}

/** Events in a scope, newest first. */
export async function listAuditEvents(
  db: Database,
  input: ListAuditEventsInput,
): Promise<StoredAuditEvent[]> {
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 500);
  const rows = await db
    .select()
    .from(auditEvents)
    .where(
      and(
        scopeFilter(input.scope),
        input.subject === undefined
          ? undefined
          : and(
              eq(auditEvents.subjectType, input.subject.kind),
              eq(auditEvents.subjectId, input.subject.id),
            ),
        input.action === undefined ? undefined : eq(auditEvents.action, input.action),
        input.beforeSeq === undefined ? undefined : lt(auditEvents.seq, input.beforeSeq),
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(limit);
  return rows.map(toStored);
}

/** How many times an actor did an action since a moment: rate limits read the audit log. */
export async function countAuditActions(
  db: Executor,
  input: { action: string; actorId: string; since: Date },
): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.action, input.action),
        eq(auditEvents.actorId, input.actorId),
        gt(auditEvents.at, input.since),
      ),
    );
  return row?.count ?? 0;
}

export type AuditChainReport =
  | { ok: true; length: number; headHash: string; checkedAt: string }
  | {
      ok: false;
      length: number;
      checkedAt: string;
      /** The first event that does not hold, by its sequence number. */
      brokenSeq: number;
      code: string;
      reason: string;
    };

const VERIFY_PAGE = 2_000;

/** Stored content comes back from jsonb with `at` as the string that was hashed. */
function isoOf(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * Walks the whole chain in pages, recomputing every link, and reports the first broken one.
 * Besides the hashes, the columns queries filter on must agree with the hashed content, so an
 * edit to `action` or `subject_id` alone is caught too.
 */
export async function verifyAuditLog(db: Database): Promise<AuditChainReport> {
  const checkedAt = new Date().toISOString();
  let anchor: { seq: number; hash: string } | undefined;
  let length = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(anchor === undefined ? undefined : gt(auditEvents.seq, anchor.seq))
      .orderBy(asc(auditEvents.seq))
      .limit(VERIFY_PAGE);
    if (rows.length === 0) break;
    const events = rows.map(toStored);
    const result = verifyAuditChain(events, anchor === undefined ? {} : { anchor });
    if (!result.ok) {
      const broken = events[result.brokenAt];
      return {
        ok: false,
        length: length + result.brokenAt,
        checkedAt,
        brokenSeq: broken?.seq ?? -1,
        code: result.code,
        reason: result.reason.replace(/^Event \d+/, `Event ${broken?.seq ?? '?'}`),
      };
    }
    for (const [index, row] of rows.entries()) {
      const content = events[index]?.content;
      if (
        content === undefined ||
        row.action !== content.action ||
        row.subjectType !== content.subject.kind ||
        row.subjectId !== content.subject.id ||
        row.at.toISOString() !== isoOf(content.at)
      ) {
        return {
          ok: false,
          length: length + index,
          checkedAt,
          brokenSeq: row.seq,
          code: 'column-mismatch',
          reason: `Event ${row.seq}: its indexed columns disagree with the hashed content.`,
        };
      }
    }
    length += rows.length;
    const last = rows.at(-1);
    if (last === undefined) break;
    anchor = { seq: last.seq, hash: last.hash };
    if (rows.length < VERIFY_PAGE) break;
  }
  return { ok: true, length, headHash: anchor?.hash ?? GENESIS_HASH, checkedAt };
}
