import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '@custody/core';
import * as schema from '@custody/db/schema';
import { useWorld } from '../../test-support/world.ts';
import { insertReportedCamera, recordOwnershipAs } from '../approvals/approval-test-fixtures.ts';
import { listAuditEvents, verifyAuditLog } from '../audit-log.ts';
import { advanceCase, casesNeedingWork } from './case-engine.ts';
import { saveCasePlan } from './case-plan.ts';
import {
  attestRecording,
  confirmVms,
  rerunProvisioning,
  startCleanup,
} from './case-provisioning.ts';
import { diagnoseReset, retryCase, startReset } from './case-reset.ts';
import { openCaseForCamera } from './case-service.ts';
import {
  approveDirectly,
  commandOf,
  commandRow,
  finishCommand,
  reload,
  testVault,
} from './case-test-fixtures.ts';
import { addCandidate, chooseRecommission, runAccessCheck } from './case-triage.ts';
import type { CaseRecord } from './case-store.ts';
import { getCaseView } from './case-view.ts';

const { approvalGrants, credentialCandidates, credentials, verifications, vmsRegistrations } =
  schema;
const vault = testVault();
const SECRET_WORDS = ['Cand-Works-Quokka-41', 'Cand-Wrong-Okapi-77', 'Another-Wrong-Tapir-3'];

const t = useWorld({ beforeAll, afterAll });

function tech() {
  return t.world.actors.technician;
}

async function newCase(fields: Parameters<typeof insertReportedCamera>[2] = {}) {
  const camera = await insertReportedCamera(t.db, t.world.sites.grantedSite.id, fields);
  const record = await openCaseForCamera(t.db, tech(), { serial: camera.serial });
  return { ...camera, record };
}

const advance = (record: CaseRecord) => advanceCase(t.db, vault, record.id);

/** Adds candidates and runs the access check; the agent answers as `outcomes` says. */
async function triage(
  record: CaseRecord,
  candidates: { password: string; outcome: 'works' | 'rejected'; isAdmin?: boolean }[],
  probe: { accessState: string } = { accessState: 'login-failed' },
): Promise<CaseRecord> {
  for (const [index, candidate] of candidates.entries()) {
    await addCandidate(t.db, vault, tech(), {
      caseId: record.id,
      username: 'root',
      password: candidate.password,
      source: `sheet ${index + 1}`,
    });
  }
  const started = await runAccessCheck(t.db, tech(), { caseId: record.id });
  await finishCommand(t.db, started.probeCommandId, {
    status: 'succeeded',
    result: { url: 'http://10.0.0.9/', ...probe, identity: { model: 'P3265-LVE' } },
  });
  if (started.testCommandId !== null) {
    const command = await commandRow(t.db, started.testCommandId);
    const refs = (command.params as { credentials: string[] }).credentials;
    await finishCommand(t.db, started.testCommandId, {
      status: 'succeeded',
      result: {
        credentials: refs.map((ref, index) => ({
          ref,
          username: 'root',
          outcome: candidates[index]?.outcome ?? 'rejected',
          isAdmin: candidates[index]?.isAdmin ?? null,
        })),
      },
    });
  }
  const advanced = await advance(record);
  if (advanced === null) throw new Error('the case vanished');
  return advanced;
}

const ALL_CHECKS_PASSED = {
  url: 'http://10.0.0.9/',
  checks: [
    'serial-at-address',
    'new-credential-works',
    'snapshot-jpeg',
    'rtsp-describe',
    'recordings',
    'old-credential-fails',
  ].map((check) => ({ check, outcome: 'passed', reason: `${check} ok`, evidence: {} })),
};

describe('triage', () => {
  it('tests the candidates through the agent, records outcomes and decides clean-up when an admin works', async () => {
    const { record } = await newCase();
    const triaged = await triage(record, [
      { password: SECRET_WORDS[1]!, outcome: 'rejected' },
      { password: SECRET_WORDS[0]!, outcome: 'works', isAdmin: true },
    ]);
    expect(triaged.state).toEqual({
      status: 'triaged',
      path: 'credential-cleanup',
      resetRequired: false,
    });
    expect(triaged.details.triage?.workingAdmin).toMatchObject({
      source: 'candidate',
      username: 'root',
    });
    const candidates = await t.db
      .select()
      .from(credentialCandidates)
      .where(eq(credentialCandidates.caseId, record.id));
    expect(candidates.map((row) => row.outcome).sort()).toEqual(['rejected', 'works']);
    // Candidates are sealed: the passwords are nowhere in the clear.
    const stored = JSON.stringify(await t.db.select().from(credentialCandidates));
    for (const word of SECRET_WORDS) expect(stored).not.toContain(word);
    const events = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'case', id: record.id },
    });
    expect(events.map((event) => event.content.action)).toContain('case.triage-completed');
    expect(JSON.stringify(events)).not.toContain(SECRET_WORDS[0]);
  });

  it('never sends more credentials than the budget and blocks the decision on what was not tried', async () => {
    const { record } = await newCase();
    for (let index = 0; index < 5; index += 1) {
      await addCandidate(t.db, vault, tech(), {
        caseId: record.id,
        username: 'root',
        password: `Wrong-${index}-Guess-Word`,
      });
    }
    const started = await runAccessCheck(t.db, tech(), { caseId: record.id });
    expect(started).toMatchObject({ tested: 3, untested: 2, budget: { remaining: 0 } });
    const command = await commandRow(t.db, started.testCommandId!);
    expect((command.params as { credentials: string[] }).credentials).toHaveLength(3);
    await finishCommand(t.db, started.probeCommandId, {
      status: 'succeeded',
      result: { accessState: 'login-failed' },
    });
    await finishCommand(t.db, started.testCommandId!, {
      status: 'succeeded',
      result: {
        credentials: ['known-1', 'known-2', 'known-3'].map((ref) => ({
          ref,
          outcome: 'rejected',
          isAdmin: null,
        })),
      },
    });
    const after = await advance(record);
    expect(after?.status).toBe('opened');
    expect(after?.details.triage?.path).toBe('blocked');
    expect(after?.details.triage?.reasons.join(' ')).toMatch(/budget ran out/);
    // The budget holds for the camera: another check now tests nothing.
    const again = await runAccessCheck(t.db, tech(), { caseId: record.id });
    expect(again).toMatchObject({ testCommandId: null, tested: 0, budget: { remaining: 0 } });
    const view = await getCaseView(t.db, tech(), record.id);
    expect(view.budget).toMatchObject({ limit: 3, used: 3, remaining: 0 });
  });

  it('decides a recommission without reset for a camera in factory-default state', async () => {
    const { record } = await newCase();
    const triaged = await triage(record, [], { accessState: 'needs-setup' });
    expect(triaged.state).toEqual({
      status: 'triaged',
      path: 'recommission',
      resetRequired: false,
    });
  });
});

describe('the credential clean-up path', () => {
  it('rotates, creates the service account, removes stale accounts, verifies and waits for the VMS', async () => {
    const { record } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[0]!, outcome: 'works', isAdmin: true }]);
    await saveCasePlan(t.db, tech(), {
      caseId: record.id,
      serviceUsername: 'custodysvc',
      vmsUsername: 'vms',
      adminUsername: 'root',
      vmsPlatform: 'AXIS Camera Station',
      removeAccounts: ['installer'],
    });
    const started = await startCleanup(t.db, vault, tech(), { caseId: record.id });
    expect(started.status).toBe('provisioning');
    const rotateId = commandOf(started, 'rotate-credential');
    const adminId = started.details.credentials.admin!;
    // The new password was vaulted (pending) before the command that carries it.
    const [pending] = await t.db.select().from(credentials).where(eq(credentials.id, adminId));
    expect(pending).toMatchObject({ status: 'pending', account: 'admin', username: 'root' });
    const rotate = await commandRow(t.db, rotateId);
    expect(rotate.secretsRef).toEqual({
      current: `candidate:${started.details.triage!.workingAdmin!.id}`,
      next: `credential:${adminId}`,
    });

    await finishCommand(t.db, rotateId, {
      status: 'succeeded',
      result: { newCredentialWorks: true, oldCredentialFails: true, passwordChanged: true },
    });
    const rotated = (await advance(record))!;
    expect(
      (await t.db.select().from(credentials).where(eq(credentials.id, adminId)))[0]?.status,
    ).toBe('active');
    const provisionId = commandOf(rotated, 'provision');
    const provision = await commandRow(t.db, provisionId);
    expect(provision.params).toMatchObject({
      admin: 'admin',
      serviceAccount: 'service',
      vmsAccount: 'vms',
      removeAccounts: ['installer'],
    });
    expect(provision.params).not.toHaveProperty('network');

    await finishCommand(t.db, provisionId, {
      status: 'succeeded',
      result: {
        url: 'http://10.0.0.9/',
        steps: [
          { step: 'first-admin', status: 'skipped' },
          { step: 'service-account', status: 'succeeded' },
          { step: 'vms-account', status: 'succeeded' },
          { step: 'remove-accounts', status: 'succeeded' },
        ],
      },
    });
    const provisioned = (await advance(record))!;
    expect(provisioned.status).toBe('verifying');
    const verifyId = commandOf(provisioned, 'verify');
    const verify = await commandRow(t.db, verifyId);
    expect(verify.params).toMatchObject({
      credential: 'admin',
      oldCredential: 'old',
      vmsCredential: 'vms',
    });

    await finishCommand(t.db, verifyId, { status: 'succeeded', result: ALL_CHECKS_PASSED });
    const waiting = (await advance(record))!;
    expect(waiting.status).toBe('verifying');
    expect(waiting.details.verification?.missing).toEqual(['vms-updated']);
    expect((await getCaseView(t.db, tech(), record.id)).waitingFor).toMatch(/VMS/);

    const verified = await confirmVms(t.db, tech(), {
      caseId: record.id,
      platform: 'AXIS Camera Station',
    });
    expect(verified.status).toBe('verified');
    // The confirmation registers the camera in the VMS for the fleet audit, in its transaction.
    expect(
      await t.db
        .select({ platform: vmsRegistrations.platform, source: vmsRegistrations.source })
        .from(vmsRegistrations)
        .where(eq(vmsRegistrations.serial, record.serial)),
    ).toEqual([{ platform: 'AXIS Camera Station', source: 'case' }]);
    const rows = await t.db.select().from(verifications).where(eq(verifications.caseId, record.id));
    expect(rows.map((row) => row.passed).sort()).toEqual([false, true]);
    const statuses = await t.db
      .select({ account: credentials.account, status: credentials.status })
      .from(credentials)
      .where(eq(credentials.serial, record.serial));
    expect(
      statuses
        .filter((row) => row.status === 'active')
        .map((row) => row.account)
        .sort(),
    ).toEqual(['admin', 'service', 'vms']);
    expect(await verifyAuditLog(t.db)).toMatchObject({ ok: true });
  });

  it('keeps the new admin pending when the rotation is not proven, and a re-run rotates again', async () => {
    const { record } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[0]!, outcome: 'works', isAdmin: true }]);
    const started = await startCleanup(t.db, vault, tech(), { caseId: record.id });
    await finishCommand(t.db, commandOf(started, 'rotate-credential'), {
      status: 'failed',
      result: { newCredentialWorks: true, oldCredentialFails: false },
      error: { code: 'rotation-unverified', message: 'The old password still works.' },
    });
    const after = (await advance(record))!;
    expect(after.status).toBe('provisioning');
    const [admin] = await t.db
      .select()
      .from(credentials)
      .where(eq(credentials.id, after.details.credentials.admin!));
    expect(admin?.status).toBe('pending');
    const rerun = await rerunProvisioning(t.db, vault, tech(), { caseId: record.id });
    expect(
      rerun.details.commands.filter((ref) => ref.purpose === 'rotate-credential'),
    ).toHaveLength(2);
  });
});

describe('the recommission path with a software reset', () => {
  it('does not queue the factory default when its audit write fails, and keeps the grant', async () => {
    const { record, agentId } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[0]!, outcome: 'works', isAdmin: true }]);
    await chooseRecommission(t.db, tech(), {
      caseId: record.id,
      reason: 'The configuration is unknown; the owner wants a clean start.',
    });
    await recordOwnershipAs(t.db, t.world, record.serial);
    const waiting = await reload(t.db, record.id);
    const { grantId } = await approveDirectly(t.db, t.world, waiting, {
      verb: 'factory-default-hard',
      agentId,
    });
    await t.db.execute(sql`
      create function refuse_reset_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'case.reset-started' then raise exception 'audit storage unavailable'; end if;
        return new;
      end $$`);
    await t.db.execute(sql`
      create trigger refuse_reset_audit before insert on audit_events
      for each row execute function refuse_reset_audit()`);
    try {
      const error = await startReset(t.db, tech(), { caseId: record.id }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/audit log could not record/);
    } finally {
      await t.db.execute(sql`drop trigger refuse_reset_audit on audit_events`);
      await t.db.execute(sql`drop function refuse_reset_audit()`);
    }
    const commands = await t.db
      .select()
      .from(schema.commands)
      .where(eq(schema.commands.caseId, record.id));
    expect(commands.filter((command) => command.verb.startsWith('factory-default'))).toEqual([]);
    const [grant] = await t.db.select().from(approvalGrants).where(eq(approvalGrants.id, grantId));
    expect(grant?.usedAt).toBeNull();
    expect((await reload(t.db, record.id)).state.status).toBe('approved');

    const resetting = await startReset(t.db, tech(), { caseId: record.id });
    expect(resetting.state).toEqual({ status: 'resetting', method: 'software-hard' });
  });

  it('consumes the grant with the reset, provisions on return and goes back to provisioning when verification fails', async () => {
    const { record, agentId } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[0]!, outcome: 'works', isAdmin: true }]);
    await chooseRecommission(t.db, tech(), {
      caseId: record.id,
      reason: 'The configuration is unknown; the owner wants a clean start.',
    });
    await recordOwnershipAs(t.db, t.world, record.serial);
    await saveCasePlan(t.db, tech(), {
      caseId: record.id,
      network: { mode: 'dhcp' },
      time: { timezone: 'UTC0', ntpServers: ['pool.ntp.org'] },
      vmsPlatform: 'AXIS Camera Station',
    });
    const waiting = await reload(t.db, record.id);
    expect(waiting.state).toEqual({ status: 'awaiting-approval', requestId: null });
    const { grantId } = await approveDirectly(t.db, t.world, waiting, {
      verb: 'factory-default-hard',
      agentId,
    });
    const resetting = await startReset(t.db, tech(), { caseId: record.id });
    expect(resetting.state).toEqual({ status: 'resetting', method: 'software-hard' });
    const resetId = commandOf(resetting, 'factory-default');
    const [grant] = await t.db.select().from(approvalGrants).where(eq(approvalGrants.id, grantId));
    expect(grant?.usedByCommandId).toBe(resetId);
    const reset = await commandRow(t.db, resetId);
    expect(reset).toMatchObject({ verb: 'factory-default-hard', approvalGrantId: grantId });

    // The grant is single use: a second start is refused.
    expect(
      await startReset(t.db, tech(), { caseId: record.id }).catch((error: unknown) => error),
    ).toSatisfy((error: unknown) => isDomainError(error, 'invalid-transition'));

    await finishCommand(t.db, resetId, {
      status: 'succeeded',
      result: { mode: 'hard', url: 'http://10.0.0.44/', needsSetup: true },
    });
    const returned = (await advance(record))!;
    expect(returned.status).toBe('provisioning');
    expect(returned.details.resetAttempts.at(-1)).toMatchObject({
      observation: 'returned-factory-default',
      observedUrl: 'http://10.0.0.44/',
    });
    const provision = await commandRow(t.db, commandOf(returned, 'provision'));
    expect(provision.params).toMatchObject({
      admin: 'admin',
      serviceAccount: 'service',
      vmsAccount: 'vms',
      network: { mode: 'dhcp' },
      time: { timezone: 'UTC0' },
    });
    expect(provision.params).toMatchObject({ removeAccounts: [] });

    await finishCommand(t.db, provision.id, {
      status: 'succeeded',
      result: {
        steps: ['first-admin', 'service-account', 'vms-account', 'time', 'network'].map((step) => ({
          step,
          status: 'succeeded',
        })),
      },
    });
    const verifying = (await advance(record))!;
    expect(verifying.status).toBe('verifying');
    await finishCommand(t.db, commandOf(verifying, 'verify'), {
      status: 'failed',
      result: {
        checks: ALL_CHECKS_PASSED.checks.map((check) =>
          check.check === 'rtsp-describe'
            ? { ...check, outcome: 'failed', reason: 'RTSP is disabled on the camera.' }
            : check,
        ),
      },
      error: { code: 'verification-failed', message: '1 of 6 check(s) did not pass.' },
    });
    const failed = (await advance(record))!;
    expect(failed.state).toMatchObject({
      status: 'provisioning',
      lastVerificationFailure: expect.stringContaining('RTSP is disabled') as string,
    });
    // A failed verification waits for a person: nothing is re-provisioned on its own.
    expect(failed.details.commands.filter((ref) => ref.purpose === 'provision')).toHaveLength(1);
    expect(await advance(record)).toMatchObject({ revision: failed.revision });
  });

  it('applies a result once however often the case is advanced', async () => {
    const { record } = await newCase();
    await triage(record, [], { accessState: 'needs-setup' });
    const before = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'case', id: record.id },
    });
    await Promise.all([advance(record), advance(record), advance(record)]);
    const after = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'case', id: record.id },
    });
    expect(after).toHaveLength(before.length);
    expect(await casesNeedingWork(t.db)).not.toContain(record.id);
  });
});

describe('the control-button reset', () => {
  async function approvedForButton() {
    const { record, agentId } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[1]!, outcome: 'rejected' }]);
    await recordOwnershipAs(t.db, t.world, record.serial);
    const waiting = await reload(t.db, record.id);
    const approval = await approveDirectly(t.db, t.world, waiting, {
      verb: 'guided-button-reset',
      agentId,
    });
    return { record, agentId, grantId: approval.grantId };
  }

  it('spends the grant on the watch and shows the steps while the agent watches', async () => {
    const { record, grantId } = await approvedForButton();
    const resetting = await startReset(t.db, tech(), { caseId: record.id, watchTimeoutMs: 5_000 });
    expect(resetting.state).toEqual({ status: 'resetting', method: 'control-button' });
    const watchId = commandOf(resetting, 'watch-for-device');
    const watch = await commandRow(t.db, watchId);
    expect(watch.params).toMatchObject({ timeoutMs: 5_000, requireFactoryDefault: true });
    const [grant] = await t.db.select().from(approvalGrants).where(eq(approvalGrants.id, grantId));
    expect(grant?.usedByCommandId).toBe(watchId);
    const view = await getCaseView(t.db, tech(), record.id);
    expect(view.reset.watching).toBe(true);
    expect(view.reset.buttonSteps.join(' ')).toMatch(/15–30 seconds.*amber/);
    expect(view.nextActions[0]).toMatchObject({ action: 'perform-button-reset', youCan: true });
  });

  it('diagnoses a camera that came back configured and needs a fresh approval to retry', async () => {
    const { record } = await approvedForButton();
    const resetting = await startReset(t.db, tech(), { caseId: record.id, watchTimeoutMs: 5_000 });
    await finishCommand(t.db, commandOf(resetting, 'watch-for-device'), {
      status: 'failed',
      result: { diagnosis: 'came-back-configured', lastSeenUrl: 'http://10.0.0.9/' },
      error: {
        code: 'came-back-configured',
        message: 'Camera went away and came back still configured.',
      },
    });
    const observed = (await advance(record))!;
    expect(observed.status).toBe('resetting');
    const view = await getCaseView(t.db, tech(), record.id);
    expect(view.reset.diagnosis?.hints.map((hint) => hint.cause)).toEqual([
      'button-timing',
      'faulty-button',
    ]);
    const wont = await diagnoseReset(t.db, tech(), { caseId: record.id, cause: 'faulty-button' });
    expect(wont.state).toMatchObject({
      status: 'wont-reset',
      diagnosis: { kind: 'came-back-configured', cause: 'faulty-button' },
    });
    const retried = await retryCase(t.db, tech(), { caseId: record.id });
    expect(retried.state).toEqual({ status: 'awaiting-approval', requestId: null });
  });

  it('moves to waiting for the camera when it never came back', async () => {
    const { record } = await approvedForButton();
    const resetting = await startReset(t.db, tech(), { caseId: record.id, watchTimeoutMs: 5_000 });
    await finishCommand(t.db, commandOf(resetting, 'watch-for-device'), {
      status: 'failed',
      result: { diagnosis: 'never-came-back', lastSeenUrl: null },
      error: { code: 'never-came-back', message: 'Camera was not seen again within 5 s.' },
    });
    const after = (await advance(record))!;
    expect(after.state).toEqual({ status: 'awaiting-device', method: 'control-button' });
    const view = await getCaseView(t.db, tech(), record.id);
    expect(view.reset.diagnosis?.hints.map((hint) => hint.cause)).toEqual([
      'power-budget',
      'cable',
      'bricked',
    ]);
    expect(view.reset.diagnosis?.explanation).toMatch(/watched for up to/);
    const wont = await diagnoseReset(t.db, tech(), { caseId: record.id, cause: 'power-budget' });
    expect(wont.state).toMatchObject({
      status: 'wont-reset',
      diagnosis: { kind: 'never-came-back', cause: 'power-budget' },
    });
  });

  it('refuses an expired grant with the reason', async () => {
    const { record, agentId } = await newCase();
    await triage(record, [{ password: SECRET_WORDS[1]!, outcome: 'rejected' }]);
    await recordOwnershipAs(t.db, t.world, record.serial);
    await approveDirectly(t.db, t.world, await reload(t.db, record.id), {
      verb: 'guided-button-reset',
      agentId,
      expiresInMs: -1_000,
    });
    const error = await startReset(t.db, tech(), { caseId: record.id }).catch(
      (caught: unknown) => caught,
    );
    expect(isDomainError(error, 'approval-refused')).toBe(true);
    expect((error as Error).message).toMatch(/expired/);
  });
});

describe('the plan', () => {
  it('refuses a static address inside the site’s DHCP range', async () => {
    await t.db
      .update(schema.sites)
      .set({ dhcpRangeStart: '10.0.0.100', dhcpRangeEnd: '10.0.0.199' })
      .where(eq(schema.sites.id, t.world.sites.grantedSite.id));
    const { record } = await newCase();
    const inside = await saveCasePlan(t.db, tech(), {
      caseId: record.id,
      network: { mode: 'static', address: '10.0.0.150', prefixLength: 24, gateway: '10.0.0.1' },
    }).catch((error: unknown) => error);
    expect(isDomainError(inside, 'invalid-input')).toBe(true);
    expect((inside as { details: { field: string } }).details.field).toBe('network.address');
    const outside = await saveCasePlan(t.db, tech(), {
      caseId: record.id,
      network: { mode: 'static', address: '10.0.0.20', prefixLength: 24, gateway: '10.0.0.1' },
    });
    expect(outside.details.plan?.network).toMatchObject({ address: '10.0.0.20' });
  });

  it('accepts a recording attestation in place of edge recordings', async () => {
    const { record } = await newCase();
    await triage(record, [], { accessState: 'needs-setup' });
    await recordOwnershipAs(t.db, t.world, record.serial);
    await saveCasePlan(t.db, tech(), { caseId: record.id, network: { mode: 'dhcp' } });
    const provisioning = (await advance(record))!;
    await finishCommand(t.db, commandOf(provisioning, 'provision'), {
      status: 'succeeded',
      result: { steps: [{ step: 'first-admin', status: 'succeeded' }] },
    });
    const verifying = (await advance(record))!;
    await finishCommand(t.db, commandOf(verifying, 'verify'), {
      status: 'failed',
      result: {
        checks: ALL_CHECKS_PASSED.checks
          .filter((check) => check.check !== 'old-credential-fails')
          .map((check) =>
            check.check === 'recordings'
              ? { ...check, outcome: 'failed', reason: 'No recordings on edge storage.' }
              : check,
          ),
      },
      error: { code: 'verification-failed', message: '1 check did not pass.' },
    });
    const waiting = (await advance(record))!;
    expect(waiting.status).toBe('verifying');
    await confirmVms(t.db, tech(), { caseId: record.id, platform: 'Milestone XProtect' });
    const verified = await attestRecording(t.db, tech(), {
      caseId: record.id,
      statement: 'XProtect shows today’s recording.',
    });
    expect(verified.status).toBe('verified');
  });
});
