import * as schema from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertReportedCamera, caseIn } from '../../services/approvals/approval-test-fixtures.ts';
import { testVault } from '../../services/cases/case-test-fixtures.ts';
import { startRotationFeed, type RotationFeed } from '../../services/rotation/rotation-feed.ts';
import { vaultedCamera } from '../../services/rotation/rotation-test-fixtures.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected = Record<CallerName | 'anonymous', string>;

const vault = testVault();

describe('the rotation router', () => {
  const t = useWorld({ beforeAll, afterAll });
  let feed: RotationFeed;
  beforeAll(async () => {
    feed = await startRotationFeed(t.handle);
  });
  afterAll(async () => {
    await feed.close();
  });

  const api = (name: CallerName | 'anonymous') =>
    createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: name === 'anonymous' ? null : t.world.actors[name],
        vault,
        rotationFeed: feed,
      }),
    );
  const camera = (site: 'grantedSite' | 'ungrantedSite' | 'foreignSite' = 'grantedSite') =>
    vaultedCamera(t.db, vault, t.world.sites[site].id);
  /** A running job over one fresh camera of the granted site, started by the integrator admin. */
  const jobOfAdmin = async () => {
    const { serial } = await camera();
    const created = await api('integratorAdmin').rotation.create({ serials: [serial] });
    return created.jobId;
  };

  const creating: Expected = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'OK',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(creating)) {
    it(`lets ${caller} start a rotation of the granted site: ${outcome}`, async () => {
      await camera();
      expect(
        await outcomeOf(
          api(caller as CallerName).rotation.create({
            siteIds: [t.world.sites.grantedSite.id],
            canarySize: 1,
          }),
        ),
      ).toBe(outcome);
    });
  }

  it('lets an owner rotate a site it has not granted, and answers it as not found to the integrator', async () => {
    await camera('ungrantedSite');
    const siteIds = [t.world.sites.ungrantedSite.id];
    expect(await outcomeOf(api('integratorAdmin').rotation.create({ siteIds }))).toBe('NOT_FOUND');
    const created = await api('ownerApprover').rotation.create({ siteIds });
    expect(created.cameras).toBeGreaterThan(0);
    // The owner's job is the owner's: the integrator does not see it.
    expect(await outcomeOf(api('integratorAdmin').rotation.get({ jobId: created.jobId }))).toBe(
      'NOT_FOUND',
    );
  });

  const viewing: Expected = {
    integratorAdmin: 'OK',
    technician: 'OK',
    integratorAuditor: 'OK',
    ownerApprover: 'NOT_FOUND',
    ownerAuditor: 'NOT_FOUND',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(viewing)) {
    it(`lets ${caller} watch the integrator's rotation (get, items): ${outcome}`, async () => {
      const jobId = await jobOfAdmin();
      const as = api(caller as CallerName);
      expect(await outcomeOf(as.rotation.get({ jobId }))).toBe(outcome);
      expect(await outcomeOf(as.rotation.items({ jobId }))).toBe(outcome);
    });
  }

  const steering: Expected = {
    integratorAdmin: 'OK',
    technician: 'FORBIDDEN',
    integratorAuditor: 'FORBIDDEN',
    ownerApprover: 'NOT_FOUND',
    ownerAuditor: 'FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND',
    foreignOwnerApprover: 'NOT_FOUND',
    anonymous: 'UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(steering)) {
    it(`lets ${caller} pause, resume and cancel the integrator's rotation: ${outcome}`, async () => {
      const jobId = await jobOfAdmin();
      const as = api(caller as CallerName);
      expect(await outcomeOf(as.rotation.pause({ jobId }))).toBe(outcome);
      if (outcome === 'OK') {
        expect(await outcomeOf(as.rotation.resume({ jobId }))).toBe('OK');
        expect(await outcomeOf(as.rotation.cancel({ jobId }))).toBe('OK');
        expect((await as.rotation.get({ jobId })).job.status).toBe('cancelled');
      } else {
        expect(await outcomeOf(as.rotation.cancel({ jobId }))).toBe(outcome);
        expect(await outcomeOf(as.rotation.retryFailures({ jobId }))).toBe(outcome);
      }
    });
  }

  it('previews what would be skipped and why, without starting anything', async () => {
    const ready = await camera();
    const unvaulted = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    const withCase = await camera();
    await caseIn(t.db, t.world, withCase.serial, 'opened');
    const foreign = await camera('foreignSite');
    const input = {
      serials: [ready.serial, unvaulted.serial, withCase.serial, foreign.serial],
      canarySize: 1,
    };
    const preview = await api('integratorAdmin').rotation.preview(input);
    expect(preview.cameras).toBe(1);
    expect(preview.skipped).toEqual(
      [
        {
          serial: unvaulted.serial,
          reason: 'no-vaulted-credential',
          label: 'no active vaulted password for this account',
        },
        {
          serial: withCase.serial,
          reason: 'open-case',
          label: 'a recommissioning case is open for it',
        },
        {
          serial: foreign.serial,
          reason: 'not-in-scope',
          label: 'not found among the cameras you may rotate',
        },
      ].sort((a, b) => a.serial.localeCompare(b.serial)),
    );
    expect((await api('integratorAdmin').rotation.list()).jobs.map((job) => job.id)).not.toContain(
      undefined,
    );
    const created = await api('integratorAdmin').rotation.create(input);
    const again = await api('integratorAdmin').rotation.preview(input);
    expect(again.skipped).toContainEqual({
      serial: ready.serial,
      reason: 'in-running-rotation',
      label: 'already in a rotation that has not finished',
    });
    const detail = await api('integratorAdmin').rotation.get({ jobId: created.jobId });
    expect(detail.skippedCount).toBe(3);
    expect(detail.can).toEqual({ pause: true, resume: false, cancel: true, retryFailures: false });
    expect((await api('technician').rotation.get({ jobId: created.jobId })).can).toEqual({
      pause: false,
      resume: false,
      cancel: false,
      retryFailures: false,
    });
  });

  it('refuses a selection where nothing can be rotated, saying why', async () => {
    const unvaulted = await insertReportedCamera(t.db, t.world.sites.grantedSite.id);
    await expect(
      api('integratorAdmin').rotation.create({ serials: [unvaulted.serial] }),
    ).rejects.toThrow(
      /None of the 1 selected cameras can be rotated: 1 no active vaulted password/,
    );
    await expect(api('integratorAdmin').rotation.create({ canarySize: 1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      api('integratorAdmin').rotation.create({ serials: [unvaulted.serial], canarySize: 0 }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('lists the organisation’s rotations newest first, page by page, with their totals', async () => {
    const first = await jobOfAdmin();
    const second = await jobOfAdmin();
    const page = await api('integratorAuditor').rotation.list({ limit: 1 });
    expect(page.jobs.map((job) => job.id)).toEqual([second]);
    expect(page.jobs[0]).toMatchObject({ cameras: 1, totals: { queued: 1 }, status: 'running' });
    const next = await api('integratorAuditor').rotation.list({
      limit: 1,
      cursor: page.nextCursor!,
    });
    expect(next.jobs.map((job) => job.id)).toEqual([first]);
    const foreign = await api('foreignIntegratorAdmin').rotation.list();
    expect(foreign.jobs.map((job) => job.id)).not.toContain(first);
  });

  it('pages the items of a job by wave and serial, filtered by status', async () => {
    const serials = [];
    for (let index = 0; index < 5; index += 1) serials.push((await camera()).serial);
    const { jobId } = await api('integratorAdmin').rotation.create({
      serials,
      canarySize: 2,
      waveSize: 2,
    });
    const first = await api('technician').rotation.items({ jobId, limit: 3 });
    expect(first.items.map((item) => item.wave)).toEqual([0, 0, 1]);
    expect(first.items[0]).toMatchObject({
      status: 'queued',
      siteName: 'Harbour Street',
      model: 'AXIS P3265-LVE',
      attempts: 0,
      error: null,
    });
    const rest = await api('technician').rotation.items({ jobId, cursor: first.nextCursor! });
    expect(rest.items.map((item) => item.wave)).toEqual([1, 2]);
    expect(rest.nextCursor).toBeNull();
    const wave2 = await api('technician').rotation.items({ jobId, wave: 2 });
    expect(wave2.items).toHaveLength(1);
    await api('integratorAdmin').rotation.cancel({ jobId });
    const skipped = await api('technician').rotation.items({ jobId, status: 'skipped' });
    expect(skipped.items).toHaveLength(5);
    expect(skipped.items[0]?.error).toEqual({
      code: 'cancelled',
      message: 'the rotation was cancelled before its turn',
    });
  });

  it('says which items wait for a site agent that is not connected, and since when', async () => {
    const { serial, agentId } = await camera();
    const { jobId } = await api('integratorAdmin').rotation.create({ serials: [serial] });
    const since = new Date(Date.now() - 20 * 60_000);
    await t.db
      .update(schema.agents)
      .set({ status: 'offline', disconnectedAt: since })
      .where(eq(schema.agents.id, agentId));
    const [waiting] = (await api('technician').rotation.items({ jobId })).items;
    expect(waiting).toMatchObject({ status: 'queued', waitingForAgent: { since } });
    expect(waiting?.waitingForAgent?.name).toMatch(/^Agent /);
    await t.db
      .update(schema.agents)
      .set({ status: 'online', disconnectedAt: null })
      .where(eq(schema.agents.id, agentId));
    const [served] = (await api('technician').rotation.items({ jobId })).items;
    expect(served?.waitingForAgent).toBeNull();
    // A finished item waits for nobody, whatever its agent does.
    await t.db
      .update(schema.agents)
      .set({ status: 'offline', disconnectedAt: since })
      .where(eq(schema.agents.id, agentId));
    await api('integratorAdmin').rotation.cancel({ jobId });
    const [cancelled] = (await api('technician').rotation.items({ jobId })).items;
    expect(cancelled).toMatchObject({ status: 'skipped', waitingForAgent: null });
  });

  it('streams a change event at once and after each committed change, to members only', async () => {
    const jobId = await jobOfAdmin();
    expect(await outcomeOf(api('foreignIntegratorAdmin').rotation.live({ jobId }))).toBe(
      'NOT_FOUND',
    );
    const controller = new AbortController();
    const stream = await createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: t.world.actors.technician,
        rotationFeed: feed,
      }),
      { signal: controller.signal },
    ).rotation.live({ jobId });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ jobId });
    const next = iterator.next();
    await api('integratorAdmin').rotation.pause({ jobId });
    expect((await next).value).toMatchObject({ jobId });
    controller.abort();
    await iterator.return?.();
    expect(feed.subscriberCount).toBe(0);
  });

  it('answers live progress as unavailable where no feed runs', async () => {
    const jobId = await jobOfAdmin();
    const caller = createCaller(
      createInnerTRPCContext({ db: t.db, actor: t.world.actors.integratorAdmin }),
    );
    expect(await outcomeOf(caller.rotation.live({ jobId }))).toBe('PRECONDITION_FAILED');
  });
});
