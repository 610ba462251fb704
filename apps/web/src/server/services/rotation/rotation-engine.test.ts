import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '@custody/db/schema';
import { useWorld } from '../../test-support/world.ts';
import { caseIn } from '../approvals/approval-test-fixtures.ts';
import { listAuditEvents } from '../audit-log.ts';
import { testVault } from '../cases/case-test-fixtures.ts';
import { advanceRotationJob, startRotationEngine } from './rotation-engine.ts';
import {
  cancelRotationJob,
  createRotationJob,
  getRotationJob,
  pauseRotationJob,
  resumeRotationJob,
  retryRotationFailures,
} from './rotation-jobs.ts';
import type { CreateRotationInput } from './rotation-selection.ts';
import {
  runFakeAgent,
  vaultPasswords,
  vaultVersions,
  vaultedCamera,
  writeResult,
  type FakeBehaviour,
  type FakeDevice,
} from './rotation-test-fixtures.ts';

const { auditEvents, commands, rotationItems, rotationJobs } = schema;
const vault = testVault();
const t = useWorld({ beforeAll, afterAll });

const admin = () => t.world.actors.integratorAdmin;
const site = () => t.world.sites.grantedSite.id;

interface Fleet {
  serials: string[];
  devices: Map<string, FakeDevice>;
}

async function fleetOf(
  count: number,
  accounts?: Parameters<typeof vaultedCamera>[3],
): Promise<Fleet> {
  const devices = new Map<string, FakeDevice>();
  for (let index = 0; index < count; index += 1) {
    const camera = await vaultedCamera(t.db, vault, site(), accounts);
    devices.set(camera.serial, camera.device);
  }
  return { serials: [...devices.keys()], devices };
}

async function start(fleet: Fleet, input: Partial<CreateRotationInput> = {}) {
  return createRotationJob(t.db, admin(), {
    serials: fleet.serials,
    canarySize: 2,
    waveSize: 3,
    ...input,
  });
}

const advance = (jobId: string, now?: Date, perAgentLimit = 32) =>
  advanceRotationJob(t.db, vault, jobId, {
    log: { warn: () => undefined },
    tuning: { perAgentLimit, recheck: { baseMs: 1_000, maxMs: 8_000 } },
    ...(now === undefined ? {} : { now }),
  });

async function items(jobId: string) {
  const rows = await t.db.select().from(rotationItems).where(eq(rotationItems.jobId, jobId));
  return new Map(rows.map((row) => [row.serial, row]));
}

async function statusOf(jobId: string) {
  const [job] = await t.db.select().from(rotationJobs).where(eq(rotationJobs.id, jobId));
  return job!;
}

/** Commands of these cameras with this verb, oldest first. */
async function commandsOf(serials: readonly string[], verb?: string) {
  const rows = await t.db
    .select()
    .from(commands)
    .where(inArray(commands.serial, [...serials]))
    .orderBy(commands.queuedAt);
  return rows.filter((row) => verb === undefined || row.verb === verb);
}

/**
 * Alternates the fake agent and the engine until nothing moves: what the gateway, the agent and
 * the engine do together, one step at a time.
 */
async function settle(
  jobId: string,
  fleet: Fleet,
  behaviour?: (command: { id: string; serial: string; verb: string }) => FakeBehaviour,
) {
  for (let round = 0; round < 50; round += 1) {
    const outcome = await advance(jobId);
    const answered = await runFakeAgent(t.db, vault, fleet.devices, behaviour);
    if (!outcome.changed && !outcome.more && answered.length === 0) return;
  }
  throw new Error('the rotation did not settle');
}

/** Every camera's working password is a vaulted version; `settled`: and it is the active one. */
async function expectVaultHoldsDevices(fleet: Fleet, account = 'admin', settled = false) {
  for (const [serial, device] of fleet.devices) {
    const versions = await vaultVersions(t.db, vault, serial, account as 'admin');
    const username = account === 'admin' ? 'root' : account === 'service' ? 'custodysvc' : 'vms';
    const working = device.get(username);
    const holding = versions.filter((version) => version.password === working);
    expect(holding.length, `camera ${serial}`).toBe(1);
    if (settled) expect(holding[0]?.status, `camera ${serial}`).toBe('active');
  }
}

async function auditOf(jobId: string, serials: readonly string[]) {
  const events = await t.db.select().from(auditEvents);
  return events.filter((event) => {
    const payload = JSON.stringify(event.payload);
    return event.subjectId === jobId || serials.some((serial) => payload.includes(serial));
  });
}

describe('the rotation engine', () => {
  it('rotates the canary first, then the waves, proving each camera before activating its new password', async () => {
    const fleet = await fleetOf(7);
    const before = await vaultPasswords(t.db, vault, fleet.serials);
    const { jobId, cameras, waves } = await start(fleet);
    expect({ cameras, waves }).toEqual({ cameras: 7, waves: 2 });

    await advance(jobId);
    const canary = [...(await items(jobId)).values()].filter((item) => item.wave === 0);
    expect(canary.map((item) => item.status)).toEqual(['changing', 'changing']);
    // Only the canary is out: the waves wait for it.
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(2);
    // The new passwords are vaulted (pending) before the commands that carry them exist.
    for (const item of canary) {
      const versions = await vaultVersions(t.db, vault, item.serial, 'admin');
      expect(versions.map((version) => version.status).sort()).toEqual(['active', 'pending']);
      expect(item.credentialId).toBe(versions.find((v) => v.status === 'pending')?.id);
    }
    await expectVaultHoldsDevices(fleet);

    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);
    const afterCanary = await items(jobId);
    expect(canary.map((item) => afterCanary.get(item.serial)?.status)).toEqual([
      'rotated',
      'rotated',
    ]);
    expect((await statusOf(jobId)).currentWave).toBe(1);
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(5);

    await settle(jobId, fleet);
    const job = await getRotationJob(t.db, admin(), { jobId });
    expect(job.job.status).toBe('completed');
    expect(job.job.finishedAt).not.toBeNull();
    expect(job.totals).toMatchObject({ rotated: 7, failed: 0, queued: 0, changing: 0 });
    expect(job.waves.map((wave) => [wave.wave, wave.total])).toEqual([
      [0, 2],
      [1, 3],
      [2, 2],
    ]);
    await expectVaultHoldsDevices(fleet, 'admin', true);
    // Every camera has a new password, and the old one is kept as a retired version.
    for (const serial of fleet.serials) {
      const versions = await vaultVersions(t.db, vault, serial, 'admin');
      expect(versions.map((version) => version.status).sort()).toEqual(['active', 'retired']);
      expect(before).toContain(versions.find((v) => v.status === 'retired')?.password);
    }
    const actions = (await auditOf(jobId, fleet.serials)).map(
      (event) => (event.payload as { action: string }).action,
    );
    expect(actions.filter((action) => action === 'credential.rotated')).toHaveLength(7);
    expect(actions).toContain('rotation.created');
    expect(actions).toContain('rotation.completed');
  });

  it('stops after a canary with a failure, and retrying touches only the failed camera', async () => {
    const fleet = await fleetOf(5);
    const { jobId } = await start(fleet, { waveSize: 10 });
    await advance(jobId);
    const [first, second] = [...(await items(jobId)).values()].filter((item) => item.wave === 0);
    // The first canary camera has no such account: the change provably did not happen.
    fleet.devices.get(first!.serial)!.delete('root');
    fleet.devices.get(first!.serial)!.set('admin', 'whatever-else');
    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);

    const job = await statusOf(jobId);
    expect(job.status).toBe('stopped');
    expect(job.stopReason).toBe('canary: 1 of 2 failed (at most 0 allowed)');
    const stopped = await items(jobId);
    expect(stopped.get(first!.serial)).toMatchObject({
      status: 'failed',
      credentialId: null,
      error: { code: 'login-failed' },
    });
    expect(stopped.get(second!.serial)?.status).toBe('rotated');
    expect([...stopped.values()].filter((item) => item.status === 'queued')).toHaveLength(3);
    // The pending version of the failed camera is gone; its old password is still the active one.
    const versions = await vaultVersions(t.db, vault, first!.serial, 'admin');
    expect(versions.map((version) => version.status)).toEqual(['active']);
    // Nothing more was queued after the stop.
    await advance(jobId);
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(2);

    // Fixed on site; retry: a new wave with the failed camera only, then the rest.
    fleet.devices.get(first!.serial)!.set('root', versions[0]!.password);
    const retried = await retryRotationFailures(t.db, admin(), { jobId });
    expect(retried).toMatchObject({ wave: 2, cameras: 1 });
    await advance(jobId);
    const changes = await commandsOf(fleet.serials, 'rotate-credential');
    expect(changes).toHaveLength(3);
    expect(changes.at(-1)?.serial).toBe(first!.serial);
    await settle(jobId, fleet);
    const done = await getRotationJob(t.db, admin(), { jobId });
    expect(done.job.status).toBe('completed');
    expect(done.totals).toMatchObject({ rotated: 5, failed: 0 });
    // The camera rotated in the canary was never sent another change.
    expect(
      (await commandsOf([second!.serial], 'rotate-credential')).map((command) => command.serial),
    ).toEqual([second!.serial]);
    expect((await items(jobId)).get(first!.serial)).toMatchObject({ wave: 2, attempts: 2 });
    await expectVaultHoldsDevices(fleet, 'admin', true);
  });

  it('goes on with the next wave when a job stopped for failures is resumed, leaving the failures failed', async () => {
    const fleet = await fleetOf(4);
    const { jobId } = await start(fleet, { canarySize: 1, waveSize: 5 });
    await settle(jobId, fleet, (command) =>
      command.verb === 'rotate-credential' ? 'interrupt-before' : 'normal',
    );
    // The check settles it: the old password still works, so the change did not take.
    expect((await statusOf(jobId)).stopReason).toBe('canary: 1 of 1 failed (at most 0 allowed)');
    await resumeRotationJob(t.db, admin(), { jobId });
    expect((await statusOf(jobId)).currentWave).toBe(1);
    await settle(jobId, fleet);
    const done = await getRotationJob(t.db, admin(), { jobId });
    expect(done.job.status).toBe('completed');
    expect(done.totals).toMatchObject({ rotated: 3, failed: 1 });
    expect(done.can.retryFailures).toBe(true);
    await expectVaultHoldsDevices(fleet, 'admin', true);
  });

  it('stops the job on a lockout signal while cameras in flight still finish and reconcile', async () => {
    const fleet = await fleetOf(4);
    const { jobId } = await start(fleet, { maxFailures: 5 });
    await advance(jobId);
    const [locked, other] = [...(await items(jobId)).values()].filter((item) => item.wave === 0);
    await runFakeAgent(t.db, vault, fleet.devices, (command) =>
      command.serial === locked!.serial ? 'locked-out' : 'ignore',
    );
    await advance(jobId);
    const job = await statusOf(jobId);
    expect(job.status).toBe('stopped');
    expect(job.stopReason).toContain(`Camera ${locked!.serial} reported a lockout (locked-out)`);
    expect(job.finishedAt).toBeNull();
    // The other canary camera is still changing; its result is applied after the stop.
    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);
    const after = await items(jobId);
    expect(after.get(other!.serial)?.status).toBe('rotated');
    expect(after.get(locked!.serial)?.status).toBe('failed');
    expect([...after.values()].filter((item) => item.status === 'queued')).toHaveLength(2);
    expect((await statusOf(jobId)).finishedAt).not.toBeNull();
    const stops = (await auditOf(jobId, [])).filter(
      (event) => (event.payload as { action: string }).action === 'rotation.stopped',
    );
    expect(stops).toHaveLength(1);
  });

  it('moves an interrupted change to checking and settles it both ways by testing both versions', async () => {
    const fleet = await fleetOf(2);
    const { jobId } = await start(fleet, { canarySize: 2 });
    await advance(jobId);
    const [applied, untouched] = fleet.serials;
    await runFakeAgent(t.db, vault, fleet.devices, (command) =>
      command.serial === applied ? 'interrupt-after' : 'interrupt-before',
    );
    await advance(jobId);
    const checking = await items(jobId);
    for (const serial of fleet.serials) {
      expect(checking.get(serial)).toMatchObject({
        status: 'checking',
        error: { code: 'interrupted' },
      });
      // Both versions are kept while the outcome is unknown.
      const versions = await vaultVersions(t.db, vault, serial, 'admin');
      expect(versions.map((version) => version.status).sort()).toEqual(['active', 'pending']);
    }
    await expectVaultHoldsDevices(fleet);
    const checks = await commandsOf(fleet.serials, 'test-credential');
    expect(checks).toHaveLength(2);
    expect(checks[0]?.params).toEqual({ credentials: ['next', 'previous'] });
    expect(checks[0]?.requestedBy).toBeNull();

    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);
    const settled = await items(jobId);
    expect(settled.get(applied!)?.status).toBe('rotated');
    expect(settled.get(untouched!)).toMatchObject({
      status: 'failed',
      error: { code: 'change-not-taken' },
    });
    expect((await vaultVersions(t.db, vault, untouched!, 'admin')).map((v) => v.status)).toEqual([
      'active',
    ]);
    await expectVaultHoldsDevices(fleet, 'admin', true);
    const rotated = (await auditOf(jobId, [applied!])).find(
      (event) => (event.payload as { action: string }).action === 'credential.rotated',
    );
    expect((rotated?.payload as { data: { provenBy: string } }).data.provenBy).toBe('check');
  });

  it('tells a change that expired unsent (nothing changed) from one that expired after it was sent (unknown)', async () => {
    const fleet = await fleetOf(2);
    const { jobId } = await start(fleet, { canarySize: 2, maxFailures: 2 });
    await advance(jobId);
    const [unsent, sent] = await commandsOf(fleet.serials, 'rotate-credential');
    await t.db
      .update(commands)
      .set({ status: 'expired', error: { code: 'expired', message: 'The command expired.' } })
      .where(eq(commands.id, unsent!.id));
    // Sent once, the agent took the change, and its acknowledgement never came back.
    fleet.devices
      .get(sent!.serial!)!
      .set(
        'root',
        (await vaultVersions(t.db, vault, sent!.serial!, 'admin')).find(
          (v) => v.status === 'pending',
        )!.password,
      );
    await t.db
      .update(commands)
      .set({ status: 'expired', dispatchCount: 1, error: { code: 'expired', message: 'expired' } })
      .where(eq(commands.id, sent!.id));
    await advance(jobId);
    const now = await items(jobId);
    expect(now.get(unsent!.serial!)).toMatchObject({
      status: 'failed',
      error: { code: 'expired' },
    });
    expect(now.get(sent!.serial!)?.status).toBe('checking');
    await expectVaultHoldsDevices(fleet);
    await settle(jobId, fleet);
    expect((await items(jobId)).get(sent!.serial!)?.status).toBe('rotated');
    await expectVaultHoldsDevices(fleet, 'admin', true);
  });

  it('keeps testing an outcome that stays unknown, later each time, and never discards meanwhile', async () => {
    const fleet = await fleetOf(1);
    const { jobId } = await start(fleet, { canarySize: 1 });
    await advance(jobId);
    await runFakeAgent(t.db, vault, fleet.devices, () => 'drop-after-apply');
    await advance(jobId);
    await runFakeAgent(t.db, vault, fleet.devices, () => 'budget-spent');
    const t0 = new Date();
    await advance(jobId, t0);
    const [serial] = fleet.serials;
    expect((await items(jobId)).get(serial!)).toMatchObject({
      status: 'checking',
      commandId: null,
      error: { checks: 1, retryAfterMs: 60_000 },
    });
    // The budget's retry-after (60 s) is longer than the back-off: nothing before it.
    await advance(jobId, new Date(t0.getTime() + 30_000));
    expect(await commandsOf(fleet.serials, 'test-credential')).toHaveLength(1);
    await advance(jobId, new Date(t0.getTime() + 61_000));
    expect(await commandsOf(fleet.serials, 'test-credential')).toHaveLength(2);
    await expectVaultHoldsDevices(fleet);
    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);
    expect((await items(jobId)).get(serial!)?.status).toBe('rotated');
    await expectVaultHoldsDevices(fleet, 'admin', true);
  });

  it('fails a camera that accepts neither version, keeping both for a person to look at', async () => {
    const fleet = await fleetOf(1);
    const { jobId } = await start(fleet, { canarySize: 1 });
    await advance(jobId);
    await runFakeAgent(t.db, vault, fleet.devices, () => 'drop-after-apply');
    await advance(jobId);
    // Someone changes the password on the camera itself before the check runs.
    fleet.devices.get(fleet.serials[0]!)!.set('root', 'Set-By-Hand-On-Site-1');
    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId);
    expect((await items(jobId)).get(fleet.serials[0]!)).toMatchObject({
      status: 'failed',
      credentialId: null,
      error: { code: 'no-working-password' },
    });
    const versions = await vaultVersions(t.db, vault, fleet.serials[0]!, 'admin');
    expect(versions.map((version) => version.status).sort()).toEqual(['active', 'pending']);
    const failed = (await auditOf(jobId, [])).find(
      (event) => (event.payload as { action: string }).action === 'rotation.failed',
    );
    expect((failed?.payload as { data: unknown }).data).toMatchObject({
      code: 'no-working-password',
      pendingKept: true,
    });
  });

  it('applies a result once, however often the engine runs and even if the row changes afterwards', async () => {
    const fleet = await fleetOf(2);
    const { jobId } = await start(fleet, { canarySize: 2 });
    await advance(jobId);
    await runFakeAgent(t.db, vault, fleet.devices);
    // Two processes advancing at once: the job's row lock makes one of them find nothing to do.
    await Promise.all([advance(jobId), advance(jobId), advance(jobId)]);
    await advance(jobId);
    const [command] = await commandsOf(fleet.serials, 'rotate-credential');
    // A replayed result that contradicts the first one changes nothing.
    await writeResult(t.db, command!.id, {
      status: 'failed',
      result: null,
      error: { code: 'interrupted', message: 'replayed', outcome: 'failed' },
    });
    await advance(jobId);
    const all = await auditOf(jobId, fleet.serials);
    const created = all.find(
      (event) => (event.payload as { action: string }).action === 'rotation.created',
    );
    // After the job started (the fixture's first activation of each camera comes before).
    const events = all.filter((event) => event.seq > created!.seq);
    const count = (action: string) =>
      events.filter((event) => (event.payload as { action: string }).action === action).length;
    expect(count('credential.rotated')).toBe(2);
    expect(count('credential.activated')).toBe(2);
    expect(count('rotation.failed')).toBe(0);
    expect([...(await items(jobId)).values()].map((item) => item.status)).toEqual([
      'rotated',
      'rotated',
    ]);
    expect((await statusOf(jobId)).status).toBe('completed');
  });

  it('cancels: queued cameras are skipped, the ones changing finish and are reconciled', async () => {
    const fleet = await fleetOf(5);
    const { jobId } = await start(fleet);
    await advance(jobId);
    const cancelled = await cancelRotationJob(t.db, admin(), { jobId });
    expect(cancelled).toMatchObject({ status: 'cancelled', skipped: 3, inFlight: 2 });
    expect((await statusOf(jobId)).finishedAt).toBeNull();
    await settle(jobId, fleet);
    const job = await getRotationJob(t.db, admin(), { jobId });
    expect(job.job.status).toBe('cancelled');
    expect(job.job.finishedAt).not.toBeNull();
    expect(job.totals).toMatchObject({ rotated: 2, skipped: 3 });
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(2);
    await expectVaultHoldsDevices(fleet, 'admin', true);
    await expect(resumeRotationJob(t.db, admin(), { jobId })).rejects.toThrow(/cannot be resumed/);
  });

  it('pauses and resumes: nothing new starts while paused, in-flight cameras still settle', async () => {
    const fleet = await fleetOf(4);
    const { jobId } = await start(fleet);
    await advance(jobId);
    await pauseRotationJob(t.db, admin(), { jobId });
    await settle(jobId, fleet);
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(2);
    expect((await statusOf(jobId)).status).toBe('paused');
    await resumeRotationJob(t.db, admin(), { jobId });
    await settle(jobId, fleet);
    expect((await statusOf(jobId)).status).toBe('completed');
    await expectVaultHoldsDevices(fleet, 'admin', true);
  });

  it('queues at most the per-agent limit at once and refills as cameras finish', async () => {
    const fleet = await fleetOf(8);
    const { jobId } = await start(fleet, { canarySize: 1, waveSize: 10 });
    await advance(jobId, undefined, 3);
    await runFakeAgent(t.db, vault, fleet.devices);
    await advance(jobId, undefined, 3);
    const open = async () =>
      (await commandsOf(fleet.serials, 'rotate-credential')).filter((c) => c.status === 'queued')
        .length;
    expect(await open()).toBe(3);
    // One camera finishes: one more is queued in its place, no more.
    const [next] = (await commandsOf(fleet.serials, 'rotate-credential')).filter(
      (command) => command.status === 'queued',
    );
    await runFakeAgent(t.db, vault, new Map([[next!.serial!, fleet.devices.get(next!.serial!)!]]));
    await advance(jobId, undefined, 3);
    expect(await open()).toBe(3);
    expect(await commandsOf(fleet.serials, 'rotate-credential')).toHaveLength(5);
  });

  it('rotates a service account with the admin, giving the agent the previous password to prove it fails', async () => {
    const fleet = await fleetOf(1, {
      admin: { username: 'root' },
      service: { username: 'custodysvc' },
    });
    const { jobId } = await start(fleet, { account: 'service', canarySize: 1 });
    await advance(jobId);
    const [change] = await commandsOf(fleet.serials, 'rotate-credential');
    expect(change?.params).toEqual({ credential: 'admin', next: 'next', previous: 'current' });
    expect(Object.keys(change?.secretsRef as object).sort()).toEqual(['admin', 'current', 'next']);
    await settle(jobId, fleet);
    expect((await items(jobId)).get(fleet.serials[0]!)?.status).toBe('rotated');
    await expectVaultHoldsDevices(fleet, 'service', true);
    // The admin password was not touched.
    expect(
      (await vaultVersions(t.db, vault, fleet.serials[0]!, 'admin')).map((v) => v.status),
    ).toEqual(['active']);
  });

  it('skips at queue time a camera that gained an open case after the job was created', async () => {
    const fleet = await fleetOf(3);
    const { jobId } = await start(fleet, { canarySize: 1, waveSize: 5 });
    const plan = await items(jobId);
    const inWave = [...plan.values()].find((item) => item.wave === 1)!;
    await caseIn(t.db, t.world, inWave.serial, 'opened');
    await settle(jobId, fleet);
    const after = await items(jobId);
    expect(after.get(inWave.serial)).toMatchObject({
      status: 'skipped',
      error: { code: 'open-case' },
    });
    expect((await statusOf(jobId)).status).toBe('completed');
  });

  it('never writes a password into commands, items, jobs, errors or audit events', async () => {
    const fleet = await fleetOf(3);
    const { jobId } = await start(fleet, { canarySize: 1, maxFailures: 3 });
    await settle(jobId, fleet, (command) =>
      command.verb === 'rotate-credential' && command.serial === fleet.serials[1]
        ? 'drop-after-apply'
        : 'normal',
    );
    const passwords = await vaultPasswords(t.db, vault, fleet.serials);
    expect(passwords.length).toBeGreaterThanOrEqual(6);
    const stored = JSON.stringify([
      await t.db.select().from(commands).where(inArray(commands.serial, fleet.serials)),
      await t.db.select().from(rotationItems).where(eq(rotationItems.jobId, jobId)),
      await t.db.select().from(rotationJobs).where(eq(rotationJobs.id, jobId)),
      await auditOf(jobId, fleet.serials),
      await listAuditEvents(t.db, { scope: 'all', limit: 500 }),
    ]);
    for (const password of passwords) expect(stored).not.toContain(password);
    expect(
      (
        await t.db
          .select()
          .from(rotationItems)
          .where(and(eq(rotationItems.jobId, jobId), eq(rotationItems.status, 'rotated')))
      ).length,
    ).toBe(3);
  });

  it('tests an unknown outcome again when its wait is over, without waiting for a sweep', async () => {
    const fleet = await fleetOf(1);
    const engine = await startRotationEngine({
      database: t.handle,
      vault,
      sweepIntervalMs: 600_000,
      tuning: { recheck: { baseMs: 300, maxMs: 300 } },
      log: { warn: () => undefined },
    });
    try {
      const { jobId } = await start(fleet, { canarySize: 1 });
      // The change's answer is lost, and the first test is cut short (the agent restarted).
      const behaviours: FakeBehaviour[] = ['drop-after-apply', 'interrupt-before'];
      for (let round = 0; round < 200; round += 1) {
        if ((await statusOf(jobId)).status === 'completed') break;
        await runFakeAgent(t.db, vault, fleet.devices, () => behaviours.shift() ?? 'normal');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect((await statusOf(jobId)).status).toBe('completed');
      // Two tests: the one at once, and the one 300 ms later that the engine woke up for.
      expect(await commandsOf(fleet.serials, 'test-credential')).toHaveLength(2);
      await expectVaultHoldsDevices(fleet, 'admin', true);
    } finally {
      await engine.close();
    }
  });

  it('runs from notifications in two engines at once, each result applied by one of them', async () => {
    const fleet = await fleetOf(6);
    const engines = await Promise.all(
      [1, 2].map(() =>
        startRotationEngine({
          database: t.handle,
          vault,
          sweepIntervalMs: 60_000,
          log: { warn: () => undefined },
        }),
      ),
    );
    try {
      const { jobId } = await start(fleet);
      for (let round = 0; round < 400; round += 1) {
        if ((await statusOf(jobId)).status === 'completed') break;
        await runFakeAgent(t.db, vault, fleet.devices);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect((await statusOf(jobId)).status).toBe('completed');
      const all = await auditOf(jobId, fleet.serials);
      const created = all.find(
        (event) => (event.payload as { action: string }).action === 'rotation.created',
      );
      const count = (action: string) =>
        all.filter(
          (event) =>
            event.seq > created!.seq && (event.payload as { action: string }).action === action,
        ).length;
      expect(count('credential.stored')).toBe(6);
      expect(count('credential.activated')).toBe(6);
      expect(count('credential.rotated')).toBe(6);
      expect(count('rotation.completed')).toBe(1);
      await expectVaultHoldsDevices(fleet, 'admin', true);
    } finally {
      await Promise.all(engines.map((engine) => engine.close()));
    }
  });
});
