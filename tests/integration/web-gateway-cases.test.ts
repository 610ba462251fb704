import { schema } from '@custody/db';
import { providedDatabaseUrl } from '@custody/db/testing';
import type { SimulatedCamera } from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decideApproval,
  requestApproval,
} from '../../apps/web/src/server/services/approvals/approvals.ts';
import { recordOwnershipAs } from '../../apps/web/src/server/services/approvals/approval-test-fixtures.ts';
import type { CaseRecord } from '../../apps/web/src/server/services/cases/case-store.ts';
import { eventually, startCaseSite, type CaseSite } from './support/case-site.ts';

// A recommissioning case end to end: the real gateway and case engine on a real database, the
// real agent enrolled for the site, simulated cameras over real sockets. Each path of the
// workflow runs on a camera of its own: credential clean-up, a software factory default, the
// guided control-button reset, and the three ways a camera will not reset.

const url = providedDatabaseUrl();
const engine = url ? 'postgresql' : 'pglite';
const SITE_BASE = url ? '127.102.0.1' : '127.101.0.1';

// Distinctive passwords: none may appear in a command row, an audit event or a case.
const OLD_ROOT = 'Inherited-Root-Pelican-5521';
const STALE = 'Stale-Installer-Lynx-9034';
const WRONG = 'Handover-Wrong-Gecko-1187';
const SECRETS = [OLD_ROOT, STALE, WRONG];

let site: CaseSite;

beforeAll(async () => {
  site = await startCaseSite({ addressBase: SITE_BASE, databaseUrl: url });
}, 60_000);

afterAll(async () => {
  await site?.close();
}, 30_000);

async function openCase(camera: SimulatedCamera): Promise<string> {
  await site.waitForCamera(camera.serial);
  const { caseId } = await site.as('technician').cases.open({ serial: camera.serial });
  return caseId;
}

async function triage(caseId: string, passwords: string[]): Promise<CaseRecord> {
  const api = site.as('technician');
  for (const password of passwords) {
    await api.cases.addCandidate({ caseId, username: 'root', password, source: 'handover sheet' });
  }
  await api.cases.runAccessCheck({ caseId });
  return site.waitForCase(
    caseId,
    (record) => record.details.triageRun?.finishedAt != null,
    'the access check',
  );
}

/** Ownership, an approval request by the technician and the owner's approval, for real. */
async function approve(caseId: string, serial: string, verb: string): Promise<void> {
  await recordOwnershipAs(site.database.db, site.world, serial);
  const request = await requestApproval(site.database.db, site.world.actors.technician, {
    caseId,
    verb: verb as 'factory-default-soft',
    reason: 'No documented admin credential; the owner wants the camera back.',
  });
  await decideApproval(site.database.db, site.world.actors.ownerApprover, {
    requestId: request.id,
    decision: 'approve',
    reason: 'Our camera; go ahead.',
  });
  await site.waitForCase(caseId, (record) => record.status === 'approved', 'the approval');
}

async function confirmAndWaitVerified(caseId: string): Promise<CaseRecord> {
  const waiting = await site.waitForCase(
    caseId,
    (record) =>
      record.status === 'verified' ||
      (record.status === 'verifying' && record.details.verification !== null),
    'the verification result',
  );
  if (waiting.status !== 'verified') {
    expect(waiting.details.verification?.missing).toEqual(['vms-updated']);
    await site.as('technician').cases.confirmVms({ caseId, platform: 'AXIS Camera Station' });
  }
  return site.waitForCase(caseId, (record) => record.status === 'verified', 'verified');
}

async function startButtonReset(caseId: string, watchTimeoutMs: number) {
  const resetting = await site.as('technician').cases.startReset({ caseId, watchTimeoutMs });
  expect(resetting.revision).toBeGreaterThan(0);
  const record = await site.waitForCase(caseId, (r) => r.status === 'resetting', 'resetting');
  const watchId = record.details.resetAttempts.at(-1)?.watchCommandId;
  // The agent is watching once it has acknowledged the watch: only then is the button pressed.
  await eventually(async () => {
    const rows = await site.database.db.select().from(schema.commands);
    const row = rows.find((candidate) => candidate.id === watchId);
    return row?.progress != null;
  }, 'the agent watching');
}

describe(`recommissioning cases on ${engine}`, () => {
  it('cleans up credentials without a reset: rotation, service account, stale account removed, verified', async () => {
    const camera = await site.addCamera({
      firmware: '11.11',
      users: [
        { username: 'root', password: OLD_ROOT, role: 'admin' },
        { username: 'installer', password: STALE, role: 'operator' },
      ],
    });
    const caseId = await openCase(camera);
    const triaged = await triage(caseId, [WRONG, OLD_ROOT]);
    expect(triaged.state).toEqual({
      status: 'triaged',
      path: 'credential-cleanup',
      resetRequired: false,
    });
    const api = site.as('technician');
    await api.cases.savePlan({
      caseId,
      serviceUsername: 'custodysvc',
      vmsUsername: 'vms',
      vmsPlatform: 'AXIS Camera Station',
      removeAccounts: ['installer'],
    });
    await api.cases.startCleanup({ caseId });
    const verified = await confirmAndWaitVerified(caseId);
    expect(verified.details.verification).toMatchObject({ passed: true });

    const users = camera.state.users.map((user) => user.username).sort();
    expect(users).toEqual(['custodysvc', 'root', 'vms']);
    expect(camera.state.bootCount).toBe(1);
    const credentials = (await site.database.db.select().from(schema.credentials)).filter(
      (row) => row.serial === camera.serial,
    );
    expect(
      credentials
        .filter((row) => row.status === 'active')
        .map((row) => row.account)
        .sort(),
    ).toEqual(['admin', 'service', 'vms']);
    const view = await api.cases.get({ caseId });
    // The verification kept a thumbnail of its snapshot as a real JPEG document.
    const documentId = view.verification?.snapshotDocumentId;
    expect(documentId).toEqual(expect.any(String));
    const document = (await site.database.db.select().from(schema.documents)).find(
      (row) => row.id === documentId,
    );
    expect(document?.mediaType).toBe('image/jpeg');
    expect([...(document?.content.subarray(0, 3) ?? [])]).toEqual([0xff, 0xd8, 0xff]);
    expect(view.verification?.checks.map((check) => `${check.kind}:${check.outcome}`)).toEqual(
      expect.arrayContaining([
        'old-credentials-rejected:passed',
        'snapshot-is-jpeg:passed',
        'rtsp-describe:passed',
        'recording-present:passed',
        'vms-updated:passed',
      ]),
    );
  }, 90_000);

  it('resets a camera with a software factory default under the owner’s approval and recommissions it at a static address', async () => {
    const camera = await site.addCamera({
      firmware: '12.x',
      users: [{ username: 'root', password: OLD_ROOT, role: 'admin' }],
    });
    const caseId = await openCase(camera);
    await triage(caseId, [OLD_ROOT]);
    const api = site.as('technician');
    await api.cases.chooseRecommission({
      caseId,
      reason: 'Unknown configuration left by the previous installer.',
    });
    const planned = SITE_BASE.replace(/\.1$/, '.29');
    await api.cases.savePlan({
      caseId,
      network: {
        mode: 'static',
        address: planned,
        prefixLength: 24,
        gateway: SITE_BASE.replace(/\.1$/, '.30'),
      },
      time: { timezone: 'UTC0', ntpServers: ['pool.ntp.org'] },
      vmsPlatform: 'AXIS Camera Station',
    });
    await approve(caseId, camera.serial, 'factory-default-soft');
    const bootsBefore = camera.state.bootCount;
    await api.cases.startReset({ caseId });
    const verified = await confirmAndWaitVerified(caseId);
    expect(camera.state.bootCount).toBeGreaterThan(bootsBefore);
    expect(verified.details.resetAttempts.at(-1)).toMatchObject({
      method: 'software-soft',
      observation: 'returned-factory-default',
    });
    expect(camera.httpUrl).toContain(planned);
    expect(camera.state.users.map((user) => user.username).sort()).toEqual([
      'custodysvc',
      'root',
      'vms',
    ]);
    const grants = await site.database.db.select().from(schema.approvalGrants);
    const grant = grants.find((row) => row.serial === camera.serial);
    expect(grant?.usedAt).toBeInstanceOf(Date);
  }, 120_000);

  it('guides the control-button reset while the agent watches, then recommissions the camera', async () => {
    const camera = await site.addCamera({ firmware: '11.11' });
    const caseId = await openCase(camera);
    const triaged = await triage(caseId, [WRONG]);
    expect(triaged.state).toEqual({ status: 'triaged', path: 'recommission', resetRequired: true });
    await site.as('technician').cases.savePlan({ caseId, vmsPlatform: 'AXIS Camera Station' });
    await approve(caseId, camera.serial, 'guided-button-reset');
    await startButtonReset(caseId, 30_000);
    const view = await site.as('technician').cases.get({ caseId });
    expect(view.reset.watching).toBe(true);
    await camera.control.holdButton(20);
    const verified = await confirmAndWaitVerified(caseId);
    expect(verified.details.resetAttempts.at(-1)).toMatchObject({
      method: 'control-button',
      observation: 'returned-factory-default',
    });
    expect(camera.state.needsetup).toBe(false);
  }, 120_000);

  const faults = [
    { fault: 'faulty-button', observations: ['came-back-configured'], status: 'resetting' },
    { fault: 'bricked', observations: ['never-came-back'], status: 'awaiting-device' },
    {
      fault: 'insufficient-power',
      observations: ['never-ready', 'never-came-back'],
      status: 'awaiting-device',
    },
  ] as const;
  for (const { fault, observations, status } of faults) {
    it(`diagnoses a camera that will not reset (${fault}) and needs a fresh approval to retry`, async () => {
      const camera = await site.addCamera({ firmware: '12.x', fault });
      const caseId = await openCase(camera);
      await triage(caseId, [WRONG]);
      await approve(caseId, camera.serial, 'guided-button-reset');
      await startButtonReset(caseId, 6_000);
      await camera.control.holdButton(20);
      const observed = await site.waitForCase(
        caseId,
        (record) => record.details.resetAttempts.at(-1)?.observation != null,
        'the watch result',
      );
      expect(observations).toContain(observed.details.resetAttempts.at(-1)?.observation);
      expect(observed.status).toBe(status);
      const view = await site.as('technician').cases.get({ caseId });
      expect(view.reset.diagnosis?.hints.length).toBeGreaterThan(0);
      const cause = view.reset.diagnosis!.hints[0]!.cause;
      await site.as('technician').cases.diagnoseReset({ caseId, cause });
      await site.as('technician').cases.retry({ caseId });
      const retried = await site.waitForCase(caseId, () => true, 'the case');
      expect(retried.state).toEqual({ status: 'awaiting-approval', requestId: null });
    }, 90_000);
  }

  it('kept every password out of commands, cases and the audit log', async () => {
    const stored = JSON.stringify([
      await site.database.db.select().from(schema.commands),
      await site.database.db.select().from(schema.cases),
      await site.database.db.select().from(schema.auditEvents),
      await site.database.db.select().from(schema.verifications),
    ]);
    for (const secret of SECRETS) expect(stored).not.toContain(secret);
  });
});
