import { randomBytes, randomUUID } from 'node:crypto';
import { commandSigningText, type CameraSighting } from '@custody/core';
import { VapixAuthError } from '@custody/vapix';
import { describe, expect, it, vi } from 'vitest';
import type { CameraDirectory } from '../cameras/camera-directory.ts';
import { generateKeyPair, signText } from '../identity/ed25519.ts';
import {
  createMemoryNonceJournal,
  createMemoryResultStore,
} from '../store/testing/memory-stores.ts';
import { commandResultMessageId } from '../link/agent-message.ts';
import { createCommandExecutor, type CommandExecutorOptions } from './command-executor.ts';
import type { CommandMessage, CommandReport, CommandResultBody } from './command-report.ts';
import type { JobContext, VerbTable } from './job-context.ts';
import { succeeded, type VerbOutcome } from './verb-outcome.ts';

const SERVER = generateKeyPair();
const AGENT_ID = randomUUID();
const SITE_ID = randomUUID();
const SERIAL = 'ACCC8E000001';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const PASSWORD = 'Zebra-Quartz-7731-Secret';

const iso = (ms: number) => new Date(ms).toISOString();

type Payload = Record<string, unknown>;

function payloadOf(overrides: Payload = {}): Payload & { commandId: string } {
  return {
    commandId: randomUUID(),
    agentId: AGENT_ID,
    siteId: SITE_ID,
    serial: SERIAL,
    url: 'http://192.0.2.10',
    verb: 'probe',
    params: { credential: 'admin' },
    secrets: { admin: { username: 'root', password: PASSWORD } },
    approval: null,
    issuedAt: iso(NOW - 60_000),
    expiresAt: iso(NOW + 600_000),
    nonce: randomBytes(16).toString('base64'),
    ...overrides,
  };
}

function approvalOf(overrides: Payload = {}): Payload {
  return {
    grantId: randomUUID(),
    action: 'factory-default-soft',
    serial: SERIAL,
    siteId: SITE_ID,
    agentId: AGENT_ID,
    expiresAt: iso(NOW + 600_000),
    ...overrides,
  };
}

function destructive(overrides: Payload = {}): Payload & { commandId: string } {
  return payloadOf({ verb: 'factory-default-soft', approval: approvalOf(), ...overrides });
}

function messageOf(payload: Payload, privateKeyPem = SERVER.privateKeyPem): CommandMessage {
  return {
    v: 1,
    id: randomUUID(),
    type: 'command',
    sentAt: iso(NOW),
    payload,
    signature: signText(privateKeyPem, commandSigningText(payload)),
  };
}

const emptyDirectory: CameraDirectory = {
  urlOf: () => undefined,
  onSighting: (_listener: (sighting: CameraSighting) => void) => () => undefined,
  discoverNow: () => Promise.resolve(),
};

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function harness(overrides: Partial<CommandExecutorOptions> = {}) {
  const reports: CommandReport[] = [];
  const logs: string[] = [];
  const runs: string[] = [];
  const nonces = createMemoryNonceJournal();
  const results = createMemoryResultStore();
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  const recordRun = (context: JobContext): Promise<VerbOutcome> => {
    runs.push(context.commandId);
    return Promise.resolve(succeeded({ serial: context.serial, verb: context.verb }));
  };
  const verbs: Partial<VerbTable> = {
    probe: recordRun,
    'factory-default-soft': recordRun,
    'factory-default-hard': recordRun,
    'watch-for-device': recordRun,
  };
  const executor = createCommandExecutor({
    identity: { agentId: AGENT_ID, siteId: SITE_ID, commandSigningKey: SERVER.publicKey },
    nonces,
    results,
    directory: emptyDirectory,
    report: (body) => {
      reports.push(body);
      return Promise.resolve();
    },
    now: () => new Date(NOW),
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
    // Every report at once, unless a test is about holding them back.
    timing: { progressHoldMs: 0 },
    ...overrides,
    verbs: { ...verbs, ...overrides.verbs },
  });
  const resultsFor = (commandId: string) =>
    reports.filter(
      (report): report is CommandResultBody =>
        report.type === 'command-result' && report.commandId === commandId,
    );
  return { executor, reports, logs, runs, nonces, results, resultsFor };
}

describe('command verification', () => {
  it('acknowledges a signed command, runs its verb once and reports the result', async () => {
    const { executor, reports, runs, results } = harness();
    const payload = payloadOf();
    await executor.handle(messageOf(payload));

    const id = payload.commandId;
    expect(runs).toEqual([id]);
    expect(reports.map((report) => report.type)).toEqual(['command-ack', 'command-result']);
    expect(reports[1]).toEqual({
      type: 'command-result',
      commandId: id,
      outcome: 'succeeded',
      result: { serial: SERIAL, verb: 'probe' },
      error: null,
      replayed: false,
    });
    expect(results.entries.get(id)).toMatchObject({
      state: 'finished',
      result: { outcome: 'succeeded' },
      reported: true,
    });
  });

  const forgeries: Array<[string, (payload: Payload) => CommandMessage]> = [
    [
      'a signature from another key',
      (payload) => messageOf(payload, generateKeyPair().privateKeyPem),
    ],
    [
      'a signature that is not a signature',
      (payload) => ({ ...messageOf(payload), signature: `${'A'.repeat(86)}==` }),
    ],
    [
      'a tampered serial',
      (payload) => ({ ...messageOf(payload), payload: { ...payload, serial: 'ACCC8E999999' } }),
    ],
    [
      'a swapped secret',
      (payload) => ({
        ...messageOf(payload),
        payload: {
          ...payload,
          secrets: { admin: { username: 'root', password: 'Swapped-Pass-9' } },
        },
      }),
    ],
    [
      'a tampered verb',
      (payload) => ({
        ...messageOf(payload),
        payload: { ...payload, verb: 'factory-default-hard' },
      }),
    ],
  ];

  it.each(forgeries)(
    'refuses %s as bad-signature without running, storing or burning the nonce',
    async (_name, forge) => {
      const { executor, reports, runs, results, nonces } = harness();
      const payload = payloadOf();
      await executor.handle(forge(payload));

      expect(runs).toEqual([]);
      expect(reports).toEqual([
        {
          type: 'command-result',
          commandId: payload.commandId,
          outcome: 'refused',
          result: null,
          error: { code: 'bad-signature', message: expect.stringContaining('signature') as string },
          replayed: false,
        },
      ]);
      expect(results.entries.size).toBe(0);
      expect(nonces.seen.size).toBe(0);
    },
  );

  it('refuses a command signed with a key other than the enrolled one', async () => {
    const other = generateKeyPair();
    const { executor, reports, runs } = harness({
      identity: { agentId: AGENT_ID, siteId: SITE_ID, commandSigningKey: other.publicKey },
    });
    await executor.handle(messageOf(payloadOf()));
    expect(runs).toEqual([]);
    expect(reports.at(-1)).toMatchObject({ outcome: 'refused', error: { code: 'bad-signature' } });
  });

  it('lets the real command run after a forged one used its id', async () => {
    const { executor, runs, resultsFor } = harness();
    const payload = payloadOf();
    await executor.handle(messageOf(payload, generateKeyPair().privateKeyPem));
    await executor.handle(messageOf(payload));

    const id = payload.commandId;
    expect(runs).toEqual([id]);
    expect(resultsFor(id).map((result) => result.outcome)).toEqual(['refused', 'succeeded']);
  });

  it('does not answer a forged command that reuses the id of a command that already ran', async () => {
    const { executor, reports, resultsFor } = harness();
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    const before = reports.length;
    await executor.handle(
      messageOf(
        { ...payload, nonce: randomBytes(16).toString('base64') },
        generateKeyPair().privateKeyPem,
      ),
    );
    expect(reports.length).toBe(before);
    expect(resultsFor(payload.commandId).map((result) => result.outcome)).toEqual(['succeeded']);
  });

  it('refuses a signed but malformed command, naming the problem', async () => {
    const { executor, reports, runs } = harness();
    const payload = payloadOf({ params: { credential: 'missing-ref' } });
    await executor.handle(messageOf(payload));
    expect(runs).toEqual([]);
    expect(reports.at(-1)).toMatchObject({
      outcome: 'refused',
      error: { code: 'malformed', message: expect.stringContaining('missing-ref') as string },
    });
  });

  const bindingCases: Array<[string, string, Payload]> = [
    ['an expired command', 'expired', payloadOf({ expiresAt: iso(NOW - 1) })],
    ['a command for another agent', 'wrong-agent', payloadOf({ agentId: randomUUID() })],
    ['a command for another site', 'wrong-agent', payloadOf({ siteId: randomUUID() })],
    [
      'a command issued in the future',
      'issued-in-future',
      payloadOf({ issuedAt: iso(NOW + 3_600_000) }),
    ],
    ['a destructive command without approval', 'approval-missing', destructive({ approval: null })],
    [
      'an approval for another serial',
      'approval-mismatch',
      destructive({ approval: approvalOf({ serial: 'ACCC8E000002' }) }),
    ],
    [
      'an approval for another action',
      'approval-mismatch',
      destructive({ approval: approvalOf({ action: 'factory-default-hard' }) }),
    ],
    [
      'an approval for another agent',
      'approval-mismatch',
      destructive({ approval: approvalOf({ agentId: randomUUID() }) }),
    ],
    [
      'an approval for another site',
      'approval-mismatch',
      destructive({ approval: approvalOf({ siteId: randomUUID() }) }),
    ],
    [
      'an expired approval',
      'approval-expired',
      destructive({ approval: approvalOf({ expiresAt: iso(NOW - 1) }) }),
    ],
    [
      'an approval on a harmless verb',
      'approval-unexpected',
      payloadOf({ approval: approvalOf({ action: 'guided-button-reset' }) }),
    ],
  ];

  it.each(bindingCases)('refuses %s as %s after acknowledging it', async (_name, code, payload) => {
    const { executor, reports, runs, results, nonces } = harness();
    await executor.handle(messageOf(payload));
    expect(runs).toEqual([]);
    expect(reports.map((report) => report.type)).toEqual(['command-ack', 'command-result']);
    expect(reports[1]).toMatchObject({ outcome: 'refused', error: { code }, replayed: false });
    expect(results.entries.size).toBe(0);
    expect(nonces.seen.size).toBe(0);
  });

  it('runs a destructive command whose approval is bound to exactly it', async () => {
    const { executor, runs, reports } = harness();
    const payload = destructive();
    await executor.handle(messageOf(payload));
    expect(runs).toEqual([payload.commandId]);
    expect(reports.at(-1)).toMatchObject({ outcome: 'succeeded' });
  });

  it('refuses a second command carrying a nonce already used', async () => {
    const { executor, runs, resultsFor } = harness();
    const first = payloadOf();
    const second = payloadOf({ nonce: first.nonce });
    await executor.handle(messageOf(first));
    await executor.handle(messageOf(second));
    expect(runs).toEqual([first.commandId]);
    expect(resultsFor(second.commandId)).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        error: expect.objectContaining({ code: 'replayed-nonce' }) as unknown,
      }),
    ]);
  });
});

describe('idempotency by command id', () => {
  it('answers a re-delivered command with its stored result and never runs it twice', async () => {
    const { executor, runs, resultsFor } = harness();
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    await executor.handle(messageOf(payload));

    const id = payload.commandId;
    expect(runs).toEqual([id]);
    const [first, second] = resultsFor(id);
    expect(first?.replayed).toBe(false);
    expect(second).toEqual({ ...first, replayed: true });
  });

  it('returns the stored result of a command re-delivered after it expired, without running it', async () => {
    let clock = NOW;
    const { executor, runs, resultsFor } = harness({ now: () => new Date(clock) });
    const payload = payloadOf({ expiresAt: iso(NOW + 60_000) });
    await executor.handle(messageOf(payload));
    clock = NOW + 120_000;
    await executor.handle(messageOf(payload));

    expect(runs).toEqual([payload.commandId]);
    const [first, second] = resultsFor(payload.commandId);
    expect(first?.outcome).toBe('succeeded');
    expect(second).toEqual({ ...first, replayed: true });
  });

  it('makes a delivery that arrives while the command runs wait for it and replay its result', async () => {
    const gate = deferred();
    const runs: string[] = [];
    const { executor, resultsFor } = harness({
      verbs: {
        probe: async (context) => {
          runs.push(context.commandId);
          await gate.promise;
          return succeeded({ done: true });
        },
      },
    });
    const payload = payloadOf();
    const first = executor.handle(messageOf(payload));
    const second = executor.handle(messageOf(payload));
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.resolve();
    await Promise.all([first, second]);

    expect(runs).toEqual([payload.commandId]);
    expect(resultsFor(payload.commandId).map((result) => result.replayed)).toEqual([false, true]);
  });

  it('reports a command found started but unfinished as interrupted, once stored, never re-run', async () => {
    const { executor, runs, results, resultsFor } = harness();
    const payload = payloadOf();
    const id = payload.commandId;
    results.seed(id, { state: 'started', serial: SERIAL });

    await executor.handle(messageOf(payload));
    await executor.handle(messageOf(payload));

    expect(runs).toEqual([]);
    const [first, second] = resultsFor(id);
    expect(first).toMatchObject({
      outcome: 'failed',
      replayed: false,
      error: {
        code: 'interrupted',
        message: expect.stringContaining('check the camera') as string,
      },
    });
    expect(second).toEqual({ ...first, replayed: true });
  });
});

describe('an acknowledged command always ends with a result', () => {
  it('journals a command as accepted before its ack goes out', async () => {
    const states: unknown[] = [];
    const results = createMemoryResultStore();
    const payload = payloadOf();
    const { executor } = harness({
      results,
      report: (body) => {
        if (body.type === 'command-ack') states.push(results.get(body.commandId));
        return Promise.resolve();
      },
    });
    await executor.handle(messageOf(payload));
    expect(states).toEqual(['accepted']);
  });

  it('does not acknowledge a command it cannot journal, and says it was not run', async () => {
    const results = createMemoryResultStore();
    results.markAccepted = () => Promise.reject(new Error('disk full'));
    const { executor, reports, runs } = harness({ results });
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    expect(runs).toEqual([]);
    expect(reports).toEqual([
      expect.objectContaining({
        type: 'command-result',
        outcome: 'failed',
        error: expect.objectContaining({ code: 'store-unavailable' }) as unknown,
      }),
    ]);
  });

  it('forgets the acceptance of a command refused for its binding, so a fixed one can run', async () => {
    let clock = NOW + 700_000;
    const { executor, results, runs } = harness({ now: () => new Date(clock) });
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    expect(results.get(payload.commandId)).toBeUndefined();
    clock = NOW;
    await executor.handle(messageOf(payload));
    expect(runs).toEqual([payload.commandId]);
  });

  it('at start, reports a command left started as interrupted and one left accepted as not run', async () => {
    const results = createMemoryResultStore();
    const started = randomUUID();
    const accepted = randomUUID();
    results.seed(started, { state: 'started', serial: SERIAL });
    results.seed(accepted, { state: 'accepted', serial: SERIAL });
    const { executor, reports, runs } = harness({ results });
    await executor.recover();

    expect(runs).toEqual([]);
    expect(reports).toEqual([
      expect.objectContaining({
        type: 'command-result',
        commandId: started,
        outcome: 'failed',
        error: {
          code: 'interrupted',
          message: expect.stringContaining(`camera ${SERIAL}`) as string,
        },
        replayed: false,
      }),
      expect.objectContaining({
        type: 'command-result',
        commandId: accepted,
        outcome: 'failed',
        error: { code: 'not-run', message: expect.stringContaining('never ran') as string },
        replayed: false,
      }),
    ]);
    for (const id of [started, accepted]) {
      expect(results.entries.get(id)).toMatchObject({ state: 'finished', reported: true });
    }
    // Everything is reported now: a second recovery finds nothing left.
    await executor.recover();
    expect(reports).toHaveLength(2);
  });

  it('at start, queues again a stored result that never reached the outbox', async () => {
    const results = createMemoryResultStore();
    const id = randomUUID();
    const result = {
      commandId: id,
      outcome: 'succeeded' as const,
      result: { serial: SERIAL },
      error: null,
      finishedAt: iso(NOW),
    };
    results.seed(id, { state: 'finished', result, reported: false });
    const { executor, reports } = harness({ results });
    await executor.recover();
    expect(reports).toEqual([
      {
        type: 'command-result',
        commandId: id,
        outcome: 'succeeded',
        result: { serial: SERIAL },
        error: null,
        replayed: false,
      },
    ]);
    expect(results.entries.get(id)).toMatchObject({ reported: true });
  });

  it('queues a result under an id derived from its command, the same id when a restart queues it again', async () => {
    const ids: (string | undefined)[] = [];
    const results = createMemoryResultStore();
    const record = (body: CommandReport, options?: { messageId?: string }) => {
      if (body.type === 'command-result') ids.push(options?.messageId);
      return Promise.resolve();
    };
    const payload = payloadOf();
    const first = harness({ results, report: record });
    await first.executor.handle(messageOf(payload));
    // The crash came after the result was queued and before that was journaled.
    const entry = results.entries.get(payload.commandId);
    if (entry?.state === 'finished') entry.reported = false;
    const second = harness({ results, report: record });
    await second.executor.recover();
    // A re-delivery's replay is a message of its own.
    await second.executor.handle(messageOf(payload));
    expect(ids).toEqual([
      commandResultMessageId(payload.commandId),
      commandResultMessageId(payload.commandId),
      undefined,
    ]);
  });

  it('leaves a result unmarked when it could not be queued, so the next start queues it', async () => {
    let fail = true;
    const { executor, results } = harness({
      report: (body) =>
        fail && body.type === 'command-result'
          ? Promise.reject(new Error('outbox full'))
          : Promise.resolve(),
    });
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    expect(results.entries.get(payload.commandId)).toMatchObject({
      state: 'finished',
      reported: false,
    });
    fail = false;
    await executor.recover();
    expect(results.entries.get(payload.commandId)).toMatchObject({ reported: true });
  });
});

describe('shutdown', () => {
  function slowVerb(started: Deferred, finish: Promise<void>) {
    return async (context: JobContext): Promise<VerbOutcome> => {
      started.resolve();
      await new Promise<void>((resolve, reject) => {
        context.signal.addEventListener('abort', () => reject(new Error('aborted')));
        void finish.then(resolve);
      });
      return succeeded({ done: true });
    };
  }

  it('lets a running command finish within the grace period and reports its result', async () => {
    const started = deferred();
    const finish = deferred();
    const { executor, resultsFor } = harness({
      verbs: { probe: slowVerb(started, finish.promise) },
    });
    const payload = payloadOf();
    const handled = executor.handle(messageOf(payload));
    await started.promise;
    const closed = executor.close({ graceMs: 5_000 });
    setTimeout(() => finish.resolve(), 20);
    await closed;
    await handled;
    expect(resultsFor(payload.commandId)).toEqual([
      expect.objectContaining({ outcome: 'succeeded', replayed: false }),
    ]);
  });

  it('aborts a command that outlasts the grace period and reports it interrupted, never re-run', async () => {
    const started = deferred();
    const { executor, reports, results, resultsFor } = harness({
      verbs: { probe: slowVerb(started, new Promise(() => undefined)) },
    });
    const payload = payloadOf();
    const id = payload.commandId;
    const handled = executor.handle(messageOf(payload));
    await started.promise;
    await executor.close({ graceMs: 20 });
    await handled;

    expect(resultsFor(id)).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ code: 'interrupted' }) as unknown,
      }),
    ]);
    expect(results.entries.get(id)).toMatchObject({ state: 'finished', reported: true });
    expect(reports.map((report) => report.type)).toEqual(['command-ack', 'command-result']);
  });

  it('reports a command still waiting for its camera at shutdown as not run', async () => {
    const started = deferred();
    const { executor, resultsFor, runs } = harness({
      verbs: {
        probe: async (context) => {
          runs.push(context.commandId);
          return slowVerb(started, new Promise(() => undefined))(context);
        },
      },
    });
    const first = payloadOf();
    const second = payloadOf();
    const handled = [executor.handle(messageOf(first)), executor.handle(messageOf(second))];
    await started.promise;
    await executor.close({ graceMs: 10 });
    await Promise.all(handled);
    expect(runs).toEqual([first.commandId]);
    expect(resultsFor(second.commandId)).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ code: 'not-run' }) as unknown,
      }),
    ]);
  });

  it('ignores a command that arrives while it shuts down, without acknowledging it', async () => {
    const { executor, reports } = harness();
    await executor.close();
    await executor.handle(messageOf(payloadOf()));
    expect(reports).toEqual([]);
  });
});

describe('scheduling', () => {
  it('runs commands for one camera one at a time, in arrival order, telling the later one it waits', async () => {
    const gates = [deferred(), deferred()];
    const events: string[] = [];
    let index = 0;
    const { executor, reports } = harness({
      verbs: {
        probe: async (context) => {
          const gate = gates[index++];
          events.push(`start ${context.commandId}`);
          await gate?.promise;
          events.push(`end ${context.commandId}`);
          return succeeded({});
        },
      },
    });
    const first = payloadOf();
    const second = payloadOf();
    const handled = [executor.handle(messageOf(first)), executor.handle(messageOf(second))];
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toEqual([`start ${first.commandId}`]);
    expect(reports).toContainEqual(
      expect.objectContaining({
        type: 'command-progress',
        commandId: second.commandId,
        step: 'queued',
      }),
    );
    gates[0]?.resolve();
    gates[1]?.resolve();
    await Promise.all(handled);
    expect(events).toEqual([
      `start ${first.commandId}`,
      `end ${first.commandId}`,
      `start ${second.commandId}`,
      `end ${second.commandId}`,
    ]);
  });

  it('runs commands for different cameras side by side, up to the global cap', async () => {
    const gate = deferred();
    let active = 0;
    let peak = 0;
    const { executor } = harness({
      maxConcurrent: 2,
      verbs: {
        probe: async () => {
          active += 1;
          peak = Math.max(peak, active);
          await gate.promise;
          active -= 1;
          return succeeded({});
        },
      },
    });
    const handled = ['ACCC8E000011', 'ACCC8E000012', 'ACCC8E000013'].map((serial) =>
      executor.handle(messageOf(payloadOf({ serial }))),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(active).toBe(2);
    expect(executor.running).toBe(2);
    gate.resolve();
    await Promise.all(handled);
    expect(peak).toBe(2);
    expect(executor.running).toBe(0);
  });

  it('frees the slot once the verb is done, while the result is still being stored', async () => {
    const storing = deferred();
    const started: string[] = [];
    const first = payloadOf({ serial: 'ACCC8E000031' });
    const second = payloadOf({ serial: 'ACCC8E000032' });
    const results = createMemoryResultStore();
    const { executor } = harness({
      maxConcurrent: 1,
      results: {
        ...results,
        finish: async (stored) => {
          if (stored.commandId === first.commandId) await storing.promise;
          return results.finish(stored);
        },
      },
      verbs: {
        probe: (context) => {
          started.push(context.commandId);
          return Promise.resolve(succeeded({}));
        },
      },
    });
    const handled = [executor.handle(messageOf(first)), executor.handle(messageOf(second))];
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The first result is not stored yet, and the second camera's command already ran.
    expect(started).toEqual([first.commandId, second.commandId]);
    storing.resolve();
    await Promise.all(handled);
    expect(results.get(first.commandId)).toMatchObject({ outcome: 'succeeded' });
  });

  it('keeps arrival order on one camera even while the queued notice is being written', async () => {
    const gate = deferred();
    const slowQueued = deferred();
    const events: string[] = [];
    const { executor } = harness({
      report: async (body) => {
        if (body.type === 'command-progress' && body.step === 'queued') await slowQueued.promise;
      },
      verbs: {
        probe: async (context) => {
          events.push(context.commandId);
          if (events.length === 1) await gate.promise;
          return succeeded({});
        },
      },
    });
    const [first, second, third] = [payloadOf(), payloadOf(), payloadOf()];
    const handled = [executor.handle(messageOf(first)), executor.handle(messageOf(second))];
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The first finishes while the second's "queued" notice is still being written.
    gate.resolve();
    await new Promise((resolve) => setTimeout(resolve, 10));
    handled.push(executor.handle(messageOf(third)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    slowQueued.resolve();
    await Promise.all(handled);
    expect(events).toEqual([first.commandId, second.commandId, third.commandId]);
  });

  it('does not count passive watches against the command cap', async () => {
    const watching = deferred();
    const { executor, runs } = harness({
      maxConcurrent: 1,
      verbs: {
        'watch-for-device': async (context) => {
          await new Promise<void>((resolve) => {
            context.signal.addEventListener('abort', () => resolve());
            void watching.promise.then(resolve);
          });
          return succeeded({});
        },
      },
    });
    const watches = ['ACCC8E000021', 'ACCC8E000022'].map((serial) =>
      executor.handle(
        messageOf(
          payloadOf({
            serial,
            verb: 'watch-for-device',
            params: { timeoutMs: 60_000 },
            secrets: {},
          }),
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const probe = payloadOf({ serial: 'ACCC8E000023' });
    await executor.handle(messageOf(probe));
    expect(runs).toEqual([probe.commandId]);
    watching.resolve();
    await Promise.all(watches);
  });

  it('refuses a command that expired while it waited for the camera', async () => {
    let clock = NOW;
    const gate = deferred();
    const { executor, resultsFor, runs } = harness({
      now: () => new Date(clock),
      verbs: {
        probe: async (context) => {
          runs.push(context.commandId);
          await gate.promise;
          return succeeded({});
        },
      },
    });
    const first = payloadOf();
    const second = payloadOf({ expiresAt: iso(NOW + 1_000) });
    const handled = [executor.handle(messageOf(first)), executor.handle(messageOf(second))];
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock = NOW + 5_000;
    gate.resolve();
    await Promise.all(handled);
    expect(runs).toEqual([first.commandId]);
    expect(resultsFor(second.commandId)).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        error: expect.objectContaining({ code: 'expired' }) as unknown,
      }),
    ]);
  });
});

describe('progress of a command’s first moments', () => {
  const stepsOf = (reports: CommandReport[], commandId: string) =>
    reports.flatMap((report) =>
      report.type === 'command-progress' && report.commandId === commandId ? [report.step] : [],
    );

  it('is not reported when the command finishes within the hold: the result says more', async () => {
    const { executor, reports } = harness({
      timing: { progressHoldMs: 10_000 },
      verbs: {
        probe: async (context) => {
          await context.progress('one', 'First.');
          await context.progress('two', 'Second.');
          return succeeded({});
        },
      },
    });
    const payload = payloadOf();
    await executor.handle(messageOf(payload));
    expect(stepsOf(reports, payload.commandId)).toEqual([]);
    expect(reports.map((report) => report.type)).toEqual(['command-ack', 'command-result']);
  });

  it('goes out, the latest of it only, once the hold ends, then every report at once', async () => {
    const gate = deferred();
    const { executor, reports } = harness({
      timing: { progressHoldMs: 50 },
      verbs: {
        probe: async (context) => {
          await context.progress('one', 'First.');
          await context.progress('two', 'Second.');
          await gate.promise;
          await context.progress('three', 'Third.');
          return succeeded({});
        },
      },
    });
    const payload = payloadOf();
    const handled = executor.handle(messageOf(payload));
    await vi.waitFor(() => expect(stepsOf(reports, payload.commandId)).toEqual(['two']));
    gate.resolve();
    await handled;
    expect(stepsOf(reports, payload.commandId)).toEqual(['two', 'three']);
    expect(reports.at(-1)?.type).toBe('command-result');
  });
});

describe('verb failures and secrets', () => {
  it('turns a VAPIX error the verb did not handle into a failed outcome with a kebab-case code', async () => {
    const { executor, reports } = harness({
      verbs: {
        probe: () =>
          Promise.reject(
            new VapixAuthError('VAPIX_LOGIN_FAILED', 'the device rejected the credentials'),
          ),
      },
    });
    await executor.handle(messageOf(payloadOf()));
    expect(reports.at(-1)).toMatchObject({
      outcome: 'failed',
      error: {
        code: 'login-failed',
        message: expect.stringContaining('rejected the credentials') as string,
      },
    });
  });

  it('reports an unexpected error as internal and logs it without the password', async () => {
    const { executor, reports, logs } = harness({
      verbs: { probe: () => Promise.reject(new Error(`boom with ${PASSWORD}`)) },
    });
    await executor.handle(messageOf(payloadOf()));
    expect(reports.at(-1)).toMatchObject({ outcome: 'failed', error: { code: 'internal' } });
    expect(logs.join('\n')).toContain('boom with [redacted]');
    expect(JSON.stringify(reports) + logs.join('\n')).not.toContain(PASSWORD);
  });

  it('masks a password a buggy verb put in its progress and result, and logs that it happened', async () => {
    const { executor, reports, logs } = harness({
      verbs: {
        probe: async (context) => {
          const { password } = context.secret('admin');
          await context.progress('leak', `tried ${password}`);
          return succeeded({ echoed: password, nested: [{ text: `x${password}y` }] });
        },
      },
    });
    await executor.handle(messageOf(payloadOf()));
    const text = JSON.stringify(reports);
    expect(text).not.toContain(PASSWORD);
    expect(reports.at(-1)).toMatchObject({
      result: { echoed: '[redacted]', nested: [{ text: 'x[redacted]y' }] },
    });
    const leaks = logs.filter((line) => line.startsWith('error a secret was removed'));
    expect(leaks.join('\n')).toContain('"what":"command-progress"');
    expect(leaks.join('\n')).toContain('"what":"command-result"');
  });

  it('never reports or logs the secrets of refused commands', async () => {
    const { executor, reports, logs } = harness();
    await executor.handle(messageOf(payloadOf({ agentId: randomUUID() })));
    await executor.handle(messageOf(payloadOf(), generateKeyPair().privateKeyPem));
    await executor.handle(messageOf(payloadOf({ params: { credential: 'nope' } })));
    expect(reports.filter((report) => report.type === 'command-result')).toHaveLength(3);
    expect(JSON.stringify(reports) + logs.join('\n')).not.toContain(PASSWORD);
  });
});
