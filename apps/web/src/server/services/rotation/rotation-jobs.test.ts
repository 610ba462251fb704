import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '@custody/core';
import * as schema from '@custody/db/schema';
import { useWorld } from '../../test-support/world.ts';
import { insertReportedCamera } from '../approvals/approval-test-fixtures.ts';
import { listAuditEvents } from '../audit-log.ts';
import { testVault } from '../cases/case-test-fixtures.ts';
import { insertAgent } from '../fleet-test-fixtures.ts';
import {
  cancelRotationJob,
  createRotationJob,
  getRotationJob,
  pauseRotationJob,
  previewRotationJob,
  resumeRotationJob,
  retryRotationFailures,
} from './rotation-jobs.ts';
import { vaultedCamera } from './rotation-test-fixtures.ts';

const { cameras, rotationItems } = schema;
const vault = testVault();
const t = useWorld({ beforeAll, afterAll });
const admin = () => t.world.actors.integratorAdmin;
const granted = () => t.world.sites.grantedSite.id;

async function errorOf(call: Promise<unknown>) {
  return call.then(
    () => null,
    (error: unknown) => error,
  );
}

describe('rotation jobs', () => {
  it('names each camera it would skip and why', async () => {
    const ready = await vaultedCamera(t.db, vault, granted());
    const serviceOnly = await vaultedCamera(t.db, vault, granted(), {
      service: { username: 'custodysvc' },
    });
    const orphan = await vaultedCamera(t.db, vault, granted());
    const lonelyAgent = await insertAgent(t.db, granted(), 'revoked one', {
      revokedAt: new Date(),
    });
    await t.db
      .update(cameras)
      .set({ agentId: lonelyAgent.id })
      .where(eq(cameras.serial, orphan.serial));
    const elsewhere = await vaultedCamera(t.db, vault, t.world.sites.ungrantedSite.id);
    const serials = [ready.serial, serviceOnly.serial, orphan.serial, elsewhere.serial];
    const preview = await previewRotationJob(t.db, admin(), {
      serials,
      account: 'service',
    });
    expect(preview.cameras).toBe(0);
    expect(new Map(preview.skipped.map((entry) => [entry.serial, entry.reason]))).toEqual(
      new Map([
        [ready.serial, 'no-vaulted-credential'],
        [serviceOnly.serial, 'no-vaulted-admin'],
        [orphan.serial, 'no-vaulted-credential'],
        [elsewhere.serial, 'not-in-scope'],
      ]),
    );
    const adminPreview = await previewRotationJob(t.db, admin(), { serials });
    expect(new Map(adminPreview.skipped.map((entry) => [entry.serial, entry.reason]))).toEqual(
      new Map([
        [serviceOnly.serial, 'no-vaulted-credential'],
        [orphan.serial, 'no-agent'],
        [elsewhere.serial, 'not-in-scope'],
      ]),
    );
    expect(adminPreview).toMatchObject({ cameras: 1, waves: 0 });
  });

  it('selects by the fleet filter within the scope, and plans the canary and waves', async () => {
    const model = `AXIS Q${Date.now() % 100000}`;
    const serials = [];
    for (let index = 0; index < 7; index += 1) {
      serials.push((await vaultedCamera(t.db, vault, granted(), undefined, { model })).serial);
    }
    await vaultedCamera(t.db, vault, t.world.sites.ungrantedSite.id, undefined, { model });
    const created = await createRotationJob(t.db, admin(), {
      filter: { model },
      canarySize: 3,
      waveSize: 2,
    });
    expect(created).toMatchObject({ cameras: 7, waves: 2, skipped: [] });
    const items = await t.db
      .select()
      .from(rotationItems)
      .where(eq(rotationItems.jobId, created.jobId));
    expect(items.map((item) => item.serial).sort()).toEqual(serials.sort());
    expect(items.map((item) => item.wave).sort()).toEqual([0, 0, 0, 1, 1, 2, 2]);
    const detail = await getRotationJob(t.db, admin(), { jobId: created.jobId });
    expect(detail.job).toMatchObject({
      status: 'running',
      account: 'admin',
      canarySize: 3,
      waveSize: 2,
      maxFailures: 0,
      currentWave: 0,
      createdBy: { id: t.world.people.integratorAdmin.id },
    });
    expect(detail.totals.queued).toBe(7);
    const [event] = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'rotation-job', id: created.jobId },
    });
    expect(event?.content).toMatchObject({
      action: 'rotation.created',
      data: { cameras: 7, waves: 2, canarySize: 3, account: 'admin' },
    });
    // Started by one job, the cameras are skipped by the next.
    const again = await errorOf(createRotationJob(t.db, admin(), { filter: { model } }));
    expect(isDomainError(again, 'invalid-input')).toBe(true);
    expect((again as Error).message).toContain('7 already in a rotation that has not finished');
  });

  it('refuses changes a job’s status does not allow, and a retry with nothing failed', async () => {
    const camera = await vaultedCamera(t.db, vault, granted());
    const { jobId } = await createRotationJob(t.db, admin(), { serials: [camera.serial] });
    expect(
      isDomainError(
        await errorOf(resumeRotationJob(t.db, admin(), { jobId })),
        'invalid-transition',
      ),
    ).toBe(true);
    expect(
      isDomainError(
        await errorOf(retryRotationFailures(t.db, admin(), { jobId })),
        'invalid-input',
      ),
    ).toBe(true);
    await pauseRotationJob(t.db, admin(), { jobId });
    expect(
      isDomainError(
        await errorOf(pauseRotationJob(t.db, admin(), { jobId })),
        'invalid-transition',
      ),
    ).toBe(true);
    await cancelRotationJob(t.db, admin(), { jobId });
    expect(
      isDomainError(
        await errorOf(retryRotationFailures(t.db, admin(), { jobId })),
        'invalid-transition',
      ),
    ).toBe(true);
    const actions = (
      await listAuditEvents(t.db, { scope: 'all', subject: { kind: 'rotation-job', id: jobId } })
    ).map((event) => event.content.action);
    expect(actions.sort()).toEqual(['rotation.cancelled', 'rotation.created', 'rotation.paused']);
  });

  it('asks someone who rotates for several organisations which one runs the job', async () => {
    const camera = await vaultedCamera(t.db, vault, granted());
    const both = {
      ...admin(),
      memberships: [...admin().memberships, ...t.world.actors.ownerApprover.memberships],
    };
    const unsure = await errorOf(createRotationJob(t.db, both, { serials: [camera.serial] }));
    expect(isDomainError(unsure, 'invalid-input')).toBe(true);
    const created = await createRotationJob(t.db, both, {
      serials: [camera.serial],
      orgId: t.world.orgs.owner.id,
    });
    const detail = await getRotationJob(t.db, both, { jobId: created.jobId });
    expect(detail.job.orgId).toBe(t.world.orgs.owner.id);
    const stranger = await errorOf(
      createRotationJob(t.db, admin(), {
        serials: [camera.serial],
        orgId: t.world.orgs.foreignIntegrator.id,
      }),
    );
    expect(isDomainError(stranger, 'not-found')).toBe(true);
  });

  it('skips a camera with no vaulted password at all, and one without an agent', async () => {
    const bare = await insertReportedCamera(t.db, granted());
    const agentless = await vaultedCamera(t.db, vault, granted());
    await t.db.update(cameras).set({ agentId: null }).where(eq(cameras.serial, agentless.serial));
    const preview = await previewRotationJob(t.db, admin(), {
      serials: [bare.serial, agentless.serial],
    });
    expect(new Map(preview.skipped.map((entry) => [entry.serial, entry.reason]))).toEqual(
      new Map([
        [bare.serial, 'no-vaulted-credential'],
        [agentless.serial, 'no-agent'],
      ]),
    );
  });
});
