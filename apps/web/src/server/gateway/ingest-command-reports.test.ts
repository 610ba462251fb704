import { randomUUID } from 'node:crypto';
import { schema } from '@custody/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAgent } from '../services/fleet-test-fixtures.ts';
import { useWorld } from '../test-support/world.ts';
import { ingestCommandReports, type CommandReportMessage } from './ingest.ts';
import {
  FLEET_CHANNEL,
  FleetEventSchema,
  parseNotification,
  type FleetEvent,
} from './notifications.ts';
import { queueCommands } from './queue-command.ts';

const { agentMessages, commands } = schema;

describe('command reports applied together', () => {
  const t = useWorld({ beforeAll, afterAll });
  let agentId: string;
  let scope: { agentId: string; siteId: string };

  beforeAll(async () => {
    const siteId = t.world.sites.grantedSite.id;
    agentId = (await insertAgent(t.db, siteId, 'reports')).id;
    scope = { agentId, siteId };
  });

  const queue = async (count: number) =>
    (
      await queueCommands(
        t.db,
        Array.from({ length: count }, (_, index) => ({
          agentId,
          serial: `ACCC8E00C${String(index).padStart(3, '0')}`,
          verb: 'test-credential' as const,
          params: { credentials: ['next'] },
          secretsRef: { next: 'credential:00000000-0000-4000-8000-000000000001' },
          requestedBy: null,
        })),
      )
    ).map((command) => command.commandId);

  const sentAt = new Date().toISOString();
  const ack = (commandId: string, id = randomUUID()): CommandReportMessage => ({
    v: 1,
    id,
    type: 'command-ack',
    sentAt,
    commandId,
  });
  const progress = (commandId: string, step: string): CommandReportMessage => ({
    v: 1,
    id: randomUUID(),
    type: 'command-progress',
    sentAt,
    commandId,
    step,
    message: `At ${step}.`,
  });
  const result = (
    commandId: string,
    id = randomUUID(),
  ): Extract<CommandReportMessage, { type: 'command-result' }> => ({
    v: 1,
    id,
    type: 'command-result',
    sentAt,
    commandId,
    outcome: 'succeeded',
    result: { works: ['next'] },
    error: null,
    replayed: false,
  });

  it('applies a run of acks, progress and results in order, announcing which finished', async () => {
    const [first, second] = await queue(2);
    const heard: FleetEvent[] = [];
    const unlisten = await t.handle.listen(FLEET_CHANNEL, (payload) => {
      const event = parseNotification(FleetEventSchema, payload);
      if (event?.event === 'command' && [first, second].includes(event.commandId)) {
        heard.push(event);
      }
    });
    try {
      const outcomes = await ingestCommandReports(t.db, scope, [
        ack(first!),
        progress(first!, 'one'),
        ack(second!),
        progress(first!, 'two'),
        result(first!),
      ]);
      expect(outcomes.map((outcome) => outcome.duplicate)).toEqual([
        false,
        false,
        false,
        false,
        false,
      ]);
      const rows = await t.db.select().from(commands).where(eq(commands.agentId, agentId));
      const byId = new Map(rows.map((row) => [row.id, row]));
      // The later progress wins, and the result after it finishes the command.
      expect(byId.get(first!)).toMatchObject({
        status: 'succeeded',
        progress: { step: 'two' },
        result: { works: ['next'] },
      });
      expect(byId.get(first!)?.completedAt).not.toBeNull();
      expect(byId.get(second!)).toMatchObject({ status: 'acknowledged', completedAt: null });
      // PostgreSQL folds identical notifications of one transaction into one: a command's acks
      // and progress are one event, its result another.
      await expect.poll(() => heard.length).toBe(3);
      expect(
        heard.map((event) => event.event === 'command' && [event.commandId, event.finished]),
      ).toEqual([
        [first, false],
        [second, false],
        [first, true],
      ]);
    } finally {
      await unlisten();
    }
  });

  it('applies each id once: replayed from an earlier batch or twice in the same one', async () => {
    const [command] = await queue(1);
    const first = result(command!);
    await ingestCommandReports(t.db, scope, [first]);
    const again = await ingestCommandReports(t.db, scope, [
      first,
      { ...result(command!), outcome: 'failed', error: { code: 'x', message: 'Late.' } },
    ]);
    // The replay is a duplicate; a second, different result does not overwrite the first.
    expect(again.map((outcome) => outcome.duplicate)).toEqual([true, false]);
    const [row] = await t.db.select().from(commands).where(eq(commands.id, command!));
    expect(row).toMatchObject({ status: 'succeeded', error: null });

    const [other] = await queue(1);
    const twice = ack(other!);
    const outcomes = await ingestCommandReports(t.db, scope, [twice, twice]);
    expect(outcomes.map((outcome) => outcome.duplicate)).toEqual([false, true]);
    const recorded = await t.db
      .select()
      .from(agentMessages)
      .where(eq(agentMessages.messageId, twice.id));
    expect(recorded).toHaveLength(1);
  });

  it('records a report on a command the agent was not sent, and says so', async () => {
    const outcomes = await ingestCommandReports(t.db, scope, [ack(randomUUID())]);
    expect(outcomes).toEqual([{ duplicate: false, conflicts: 0, unknownCommand: true }]);
  });

  it('applies nothing of a batch whose transaction fails', async () => {
    const [command] = await queue(1);
    const good = ack(command!);
    // A message id the table refuses (over its length) fails the insert, so the whole batch.
    const bad = { ...ack(command!), id: 'x'.repeat(10_000) };
    await expect(ingestCommandReports(t.db, scope, [good, bad])).rejects.toThrow();
    const [row] = await t.db.select().from(commands).where(eq(commands.id, command!));
    expect(row?.status).toBe('queued');
    const recorded = await t.db
      .select()
      .from(agentMessages)
      .where(eq(agentMessages.messageId, good.id));
    expect(recorded).toHaveLength(0);
  });
});
