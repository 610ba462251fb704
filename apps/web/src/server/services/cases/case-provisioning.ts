import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  DomainError,
  VERIFICATION_CHECK_KINDS,
  evaluateVerification,
  generateDevicePassword,
  type CredentialAccount,
  type VerificationCheck,
  type VerificationCheckKind,
  type VerifyCheck,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';
import { recordVmsRegistration } from '../fleet-audit/vms-registrations.ts';
import { activateCredentialVersion, storeCredentialVersion } from '../vault/credential-store.ts';
import type { Vault } from '../vault/vault.ts';
import { requireCaseWork } from './case-access.ts';
import { entryOf, inFlight, markApplied, queueCaseCommand, withCommand } from './case-commands.ts';
import {
  applyCaseEvent,
  lockCase,
  updateCaseDetails,
  type CaseDetails,
  type CaseRecord,
  type CredentialOrigin,
  type RecommissionPlan,
} from './case-store.ts';
import type { FinishedCommand } from './case-triage.ts';

const { cameras, credentials, documents, sites, verifications } = schema;

const ENGINE = { kind: 'system' as const, id: 'case-engine' };

/** A plan for a clean-up nobody wrote one for: a service account, nothing else changed. */
function defaultCleanupPlan(record: CaseRecord): RecommissionPlan {
  return {
    network: null,
    time: null,
    vms: null,
    adminUsername: record.details.triage?.workingAdmin?.username ?? 'root',
    serviceUsername: 'custodysvc',
    vmsUsername: null,
    removeAccounts: [],
    plannedBy: { id: 'case-engine' },
    plannedAt: new Date().toISOString(),
  };
}

function pathOf(record: CaseRecord): 'credential-cleanup' | 'recommission' | null {
  const state = record.state;
  if ('path' in state) return state.path;
  return null;
}

/**
 * The vault entry the case uses for an account: the one it already made (pending or active, with
 * the planned user name), or a new pending version with a generated password. Generated with the
 * "complex" policy, which satisfies every AXIS passphrase policy, and sealed before any command
 * names it.
 */
async function ensureCredential(
  tx: Executor,
  vault: Vault,
  record: CaseRecord,
  account: CredentialAccount,
  username: string,
  createdBy: string | null,
): Promise<string> {
  const existing = record.details.credentials[account];
  if (existing !== null) {
    const [row] = await tx
      .select({ username: credentials.username, status: credentials.status })
      .from(credentials)
      .where(eq(credentials.id, existing));
    if (row !== undefined && row.username === username && row.status !== 'retired') return existing;
  }
  const password = generateDevicePassword({ policy: 'complex', random: randomBytes });
  const stored = await storeCredentialVersion(tx, vault, {
    serial: record.serial,
    account,
    username,
    password,
    createdBy,
  });
  return stored.id;
}

async function activeAdminOrigin(tx: Executor, serial: string): Promise<CredentialOrigin | null> {
  const [admin] = await tx
    .select({ id: credentials.id })
    .from(credentials)
    .where(
      and(
        eq(credentials.serial, serial),
        eq(credentials.account, 'admin'),
        eq(credentials.status, 'active'),
      ),
    );
  return admin === undefined ? null : { source: 'vault', id: admin.id };
}

/** The credential verification proves rejected: the admin that worked before, or one tried. */
async function previousAdminOf(tx: Executor, record: CaseRecord): Promise<CredentialOrigin | null> {
  if (record.details.credentials.previousAdmin !== null) {
    return record.details.credentials.previousAdmin;
  }
  const triage = record.details.triage;
  if (triage?.workingAdmin)
    return { source: triage.workingAdmin.source, id: triage.workingAdmin.id };
  const active = await activeAdminOrigin(tx, record.serial);
  if (active !== null && active.id !== record.details.credentials.admin) return active;
  const tried = triage?.credentialTests.find((test) => test.outcome === 'rejected');
  return tried === undefined ? null : { source: tried.source, id: tried.id };
}

/** Queues the rotation of the working admin's password (clean-up, first step). */
async function queueRotation(
  tx: Executor,
  vault: Vault,
  record: CaseRecord,
  requestedBy: string | null,
): Promise<{ details: CaseDetails; commandId: string }> {
  const working = record.details.triage?.workingAdmin;
  if (!working) {
    throw new DomainError('conflict', 'The case has no working admin credential to rotate.');
  }
  const adminId = await ensureCredential(tx, vault, record, 'admin', working.username, requestedBy);
  const ref = await queueCaseCommand(tx, record, {
    purpose: 'rotate-credential',
    verb: 'rotate-credential',
    params: { credential: 'current', next: 'next' },
    secretsRef: { current: entryOf(working), next: `credential:${adminId}` },
    requestedBy,
    stateRevision: record.details.enteredRevision,
  });
  const details = withCommand(record.details, ref);
  return {
    commandId: ref.id,
    details: {
      ...details,
      credentials: {
        ...details.credentials,
        admin: adminId,
        previousAdmin: { source: working.source, id: working.id },
      },
    },
  };
}

/**
 * Queues provision: every password generated and vaulted (pending) before the command that
 * carries it exists. Recommission creates the first admin; clean-up logs in with the rotated one.
 */
export async function queueProvision(
  tx: Executor,
  vault: Vault,
  record: CaseRecord,
  requestedBy: string | null,
): Promise<{ details: CaseDetails; commandId: string }> {
  const path = pathOf(record);
  const plan =
    record.details.plan ?? (path === 'credential-cleanup' ? defaultCleanupPlan(record) : null);
  if (plan === null) {
    throw new DomainError('conflict', 'Save the recommission plan first.', {
      details: { field: 'plan' },
    });
  }
  const adminUsername =
    path === 'credential-cleanup'
      ? (record.details.triage?.workingAdmin?.username ?? plan.adminUsername)
      : plan.adminUsername;
  let working = record;
  const adminId = await ensureCredential(tx, vault, working, 'admin', adminUsername, requestedBy);
  working = {
    ...working,
    details: {
      ...working.details,
      credentials: { ...working.details.credentials, admin: adminId },
    },
  };
  const serviceId = await ensureCredential(
    tx,
    vault,
    working,
    'service',
    plan.serviceUsername,
    requestedBy,
  );
  const vmsId =
    plan.vmsUsername === null
      ? null
      : await ensureCredential(tx, vault, working, 'vms', plan.vmsUsername, requestedBy);
  const previousAdmin = await previousAdminOf(tx, record);
  const params: Record<string, unknown> = { admin: 'admin', serviceAccount: 'service' };
  const secretsRef: Record<string, string> = {
    admin: `credential:${adminId}`,
    service: `credential:${serviceId}`,
  };
  if (vmsId !== null) {
    params.vmsAccount = 'vms';
    secretsRef.vms = `credential:${vmsId}`;
  }
  if (plan.time !== null) params.time = plan.time;
  if (plan.network !== null) params.network = plan.network;
  if (path === 'credential-cleanup' && plan.removeAccounts.length > 0) {
    params.removeAccounts = plan.removeAccounts;
  }
  const ref = await queueCaseCommand(tx, record, {
    purpose: 'provision',
    verb: 'provision',
    params,
    secretsRef,
    requestedBy,
    stateRevision: record.details.enteredRevision,
  });
  const details = withCommand(record.details, ref);
  return {
    commandId: ref.id,
    details: {
      ...details,
      plan,
      credentials: {
        ...details.credentials,
        admin: adminId,
        service: serviceId,
        vms: vmsId,
        previousAdmin: details.credentials.previousAdmin ?? previousAdmin,
      },
    },
  };
}

/** The URL the camera should answer at after provisioning, for a static plan. */
async function expectedUrlOf(tx: Executor, record: CaseRecord): Promise<string | undefined> {
  const network = record.details.plan?.network;
  if (network?.mode !== 'static') return undefined;
  const [camera] = await tx
    .select({ url: cameras.url })
    .from(cameras)
    .where(eq(cameras.serial, record.serial));
  const base = new URL(camera?.url ?? `http://${network.address}/`);
  base.hostname = network.address;
  return base.toString();
}

export async function queueVerify(
  tx: Executor,
  record: CaseRecord,
  requestedBy: string | null,
): Promise<{ details: CaseDetails; commandId: string }> {
  const { admin, service, vms, previousAdmin } = record.details.credentials;
  if (admin === null) throw new DomainError('conflict', 'The case has no new admin credential.');
  const checks: VerifyCheck[] = [
    'serial-at-address',
    'new-credential-works',
    'snapshot-jpeg',
    'rtsp-describe',
    'recordings',
  ];
  const params: Record<string, unknown> = { credential: 'admin' };
  const secretsRef: Record<string, string> = { admin: `credential:${admin}` };
  const vmsId = vms ?? service;
  if (vmsId !== null) {
    params.vmsCredential = 'vms';
    secretsRef.vms = `credential:${vmsId}`;
  }
  if (previousAdmin !== null) {
    params.oldCredential = 'old';
    secretsRef.old = entryOf(previousAdmin);
    checks.push('old-credential-fails');
  }
  const expectedUrl = await expectedUrlOf(tx, record);
  if (expectedUrl !== undefined) params.expectedUrl = expectedUrl;
  params.checks = checks;
  params.thumbnail = true;
  const ref = await queueCaseCommand(tx, record, {
    purpose: 'verify',
    verb: 'verify',
    params,
    secretsRef,
    requestedBy,
    stateRevision: record.details.enteredRevision,
  });
  return { commandId: ref.id, details: withCommand(record.details, ref) };
}

/**
 * Starts credential clean-up: rotate the working admin's password (generated, vaulted pending
 * first), then the engine creates the service account and removes the selected stale accounts.
 */
export async function startCleanup(
  db: Database,
  vault: Vault,
  actor: Actor,
  input: { caseId: string; expectedRevision?: number | undefined },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 'start the credential clean-up');
    const record = await lockCase(tx, input.caseId);
    if (record.state.status !== 'triaged' || record.state.path !== 'credential-cleanup') {
      throw new DomainError(
        'invalid-transition',
        'Credential clean-up starts from a case triaged for it.',
        { details: { from: record.status } },
      );
    }
    if (input.expectedRevision !== undefined && input.expectedRevision !== record.revision) {
      throw new DomainError('conflict', 'The case changed since you loaded it; reload it.');
    }
    const nextRevision = record.revision + 1;
    const queued = await queueRotation(
      tx,
      vault,
      { ...record, details: { ...record.details, enteredRevision: nextRevision } },
      actor.userId,
    );
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'provisioning-started' },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      details: (current) => ({
        ...queued.details,
        plan: current.plan ?? defaultCleanupPlan(record),
      }),
      auditData: { commandId: queued.commandId, verb: 'rotate-credential' },
    });
  });
}

const RotateResultSchema = z.object({
  newCredentialWorks: z.boolean().optional(),
  oldCredentialFails: z.boolean().nullable().optional(),
});

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : 'the command did not complete';
}

/**
 * The rotation's result: the new admin version is activated only when the agent proved the new
 * password works and the old one fails; then the provision step follows in the same transaction.
 */
export async function applyRotateResult(
  tx: Executor,
  vault: Vault,
  record: CaseRecord,
  command: FinishedCommand,
): Promise<CaseRecord> {
  const parsed = RotateResultSchema.safeParse(command.result ?? {});
  const proven =
    command.status === 'succeeded' &&
    parsed.success &&
    parsed.data.newCredentialWorks === true &&
    parsed.data.oldCredentialFails === true;
  const adminId = record.details.credentials.admin;
  if (!proven || adminId === null || record.status !== 'provisioning') {
    const outcome = proven
      ? 'rotation proven, but the case moved on'
      : `rotation not proven: ${messageOf(command.error)}`;
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: ENGINE,
      orgId: null,
      action: 'case.rotation-failed',
      data: { commandId: command.id, reason: outcome },
      details: (current) => markApplied(current, command.id, outcome),
    });
  }
  await activateCredentialVersion(tx, adminId);
  const marked = await updateCaseDetails(tx, {
    caseId: record.id,
    actor: ENGINE,
    orgId: null,
    action: 'case.rotation-proven',
    data: { commandId: command.id, credentialId: adminId },
    details: (current) =>
      markApplied(current, command.id, 'new admin password works, the old one fails'),
  });
  const queued = await queueProvision(tx, vault, marked, null);
  return updateCaseDetails(tx, {
    caseId: record.id,
    actor: ENGINE,
    orgId: null,
    details: () => queued.details,
  });
}

const ProvisionResultSchema = z.object({
  url: z.string().optional(),
  steps: z
    .array(z.object({ step: z.string(), status: z.string(), detail: z.string().optional() }))
    .default([]),
});

const STEP_ACCOUNTS: Record<string, CredentialAccount> = {
  'first-admin': 'admin',
  'service-account': 'service',
  'vms-account': 'vms',
};

/**
 * The provision result: each account whose step succeeded (or found its work done) is activated,
 * since the camera holds that password now, even if a later step failed. Success moves the case
 * to verifying and queues verify in the same transaction.
 */
export async function applyProvisionResult(
  tx: Executor,
  record: CaseRecord,
  command: FinishedCommand,
): Promise<CaseRecord> {
  const parsed = ProvisionResultSchema.safeParse(command.result ?? {});
  const steps = parsed.success ? parsed.data.steps : [];
  for (const step of steps) {
    const account = STEP_ACCOUNTS[step.step];
    if (account === undefined || (step.status !== 'succeeded' && step.status !== 'skipped'))
      continue;
    const id = record.details.credentials[account];
    if (id !== null) await activateCredentialVersion(tx, id);
  }
  const asked = record.details.plan?.removeAccounts ?? [];
  const removalReported = steps.some((step) => step.step === 'remove-accounts');
  if (
    command.status !== 'succeeded' ||
    record.status !== 'provisioning' ||
    (asked.length > 0 && pathOf(record) === 'credential-cleanup' && !removalReported)
  ) {
    const reason =
      command.status === 'succeeded' && record.status === 'provisioning'
        ? 'The agent did not report removing the selected accounts; update the agent and re-run provisioning.'
        : command.status === 'succeeded'
          ? 'provisioned, but the case moved on'
          : messageOf(command.error);
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: ENGINE,
      orgId: null,
      action: 'case.provisioning-failed',
      data: { commandId: command.id, reason },
      details: (current) => markApplied(current, command.id, `provisioning failed: ${reason}`),
    });
  }
  const provisioned = await applyCaseEvent(tx, {
    caseId: record.id,
    event: { type: 'provisioned' },
    actor: ENGINE,
    orgId: null,
    details: (current) =>
      markApplied(
        current,
        command.id,
        `provisioned${parsed.success && parsed.data.url ? ` at ${parsed.data.url}` : ''}`,
      ),
    auditData: {
      commandId: command.id,
      steps: steps.map((step) => `${step.step}: ${step.status}`),
    },
  });
  const queued = await queueVerify(tx, provisioned, null);
  return updateCaseDetails(tx, {
    caseId: record.id,
    actor: ENGINE,
    orgId: null,
    details: () => queued.details,
  });
}

const AGENT_CHECKS: Record<string, VerificationCheckKind> = {
  'serial-at-address': 'serial-at-planned-address',
  'new-credential-works': 'new-credentials-work',
  'old-credential-fails': 'old-credentials-rejected',
  'snapshot-jpeg': 'snapshot-is-jpeg',
  'rtsp-describe': 'rtsp-describe',
  recordings: 'recording-present',
};

const VerifyResultSchema = z.object({
  url: z.string().nullable().optional(),
  checks: z
    .array(
      z.object({
        check: z.string(),
        outcome: z.enum(['passed', 'failed', 'skipped']),
        reason: z.string().default(''),
        evidence: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .default([]),
});

const StoredChecksSchema = z.array(
  z.object({
    kind: z.enum(VERIFICATION_CHECK_KINDS),
    outcome: z.enum(['passed', 'failed', 'skipped']),
    summary: z.string().default(''),
    evidence: z.record(z.string(), z.unknown()).default({}),
    checkedAt: z.string(),
    by: z.enum(['agent', 'user']).default('agent'),
  }),
);
type StoredCheck = z.infer<typeof StoredChecksSchema>[number];

/** Checks a person provides: the VMS confirmation and, without edge recordings, an attestation. */
function userChecks(details: CaseDetails): StoredCheck[] {
  const checks: StoredCheck[] = [];
  if (details.vmsConfirmation !== null) {
    const vms = details.vmsConfirmation;
    checks.push({
      kind: 'vms-updated',
      outcome: 'passed',
      summary: `Re-added to ${vms.platform}, confirmed by ${vms.confirmedBy.name ?? vms.confirmedBy.id}.${vms.note ? ` ${vms.note}` : ''}`,
      evidence: { platform: vms.platform, confirmedBy: vms.confirmedBy.id },
      checkedAt: vms.confirmedAt,
      by: 'user',
    });
  }
  if (details.recordingAttestation !== null) {
    const attestation = details.recordingAttestation;
    checks.push({
      kind: 'recording-present',
      outcome: 'passed',
      summary: `Recording in the VMS attested by ${attestation.attestedBy.name ?? attestation.attestedBy.id}: ${attestation.statement}`,
      evidence: { attestedBy: attestation.attestedBy.id },
      checkedAt: attestation.attestedAt,
      by: 'user',
    });
  }
  return checks;
}

const USER_KINDS: readonly VerificationCheckKind[] = ['vms-updated', 'recording-present'];

/**
 * Records a verification (agent evidence plus what people confirmed) and moves the case: every
 * required check passed ⇒ verified; a device check failed ⇒ back to provisioning with the
 * reason; only people's confirmations missing ⇒ it waits in verifying.
 */
async function recordVerification(
  tx: Executor,
  record: CaseRecord,
  agentChecks: StoredCheck[],
  commandId: string | null,
  actor: { kind: 'user' | 'system'; id: string },
  orgId: string | null,
  snapshotDocumentId: string | null = null,
): Promise<CaseRecord> {
  const checks = [...agentChecks, ...userChecks(record.details)];
  const hasOld = agentChecks.some((check) => check.kind === 'old-credentials-rejected');
  const required = VERIFICATION_CHECK_KINDS.filter(
    (kind) => hasOld || kind !== 'old-credentials-rejected',
  );
  const coreChecks: VerificationCheck[] = checks.map((check) => ({
    kind: check.kind,
    outcome: check.outcome,
    summary: check.summary,
    evidence: check.evidence,
    checkedAt: new Date(check.checkedAt),
  }));
  const outcome = evaluateVerification(coreChecks, required);
  const [row] = await tx
    .insert(verifications)
    .values({
      caseId: record.id,
      serial: record.serial,
      passed: outcome.isPassed,
      checks,
      snapshotDocumentId,
    })
    .returning({ id: verifications.id, createdAt: verifications.createdAt });
  if (row === undefined) throw new Error('The verification insert returned no row.');
  const summary = {
    verificationId: row.id,
    passed: outcome.isPassed,
    failed: outcome.failed,
    missing: outcome.missing,
    at: row.createdAt.toISOString(),
  };
  const details = (current: CaseDetails) => ({
    ...(commandId === null
      ? current
      : markApplied(current, commandId, outcome.isPassed ? 'verified' : 'verification incomplete')),
    verification: summary,
  });
  const blocking: VerificationCheckKind[] = outcome.failed.filter(
    (kind) => kind !== 'recording-present',
  );
  if (record.status !== 'verifying') {
    return updateCaseDetails(tx, { caseId: record.id, actor, orgId, details });
  }
  if (outcome.isPassed) {
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'verification-passed' },
      actor,
      orgId,
      details,
      auditData: { verificationId: row.id, commandId },
    });
  }
  if (blocking.length > 0 || (commandId !== null && agentChecks.length === 0)) {
    const reasons = checks
      .filter((check) => blocking.includes(check.kind) && check.outcome === 'failed')
      .map((check) => `${check.kind}: ${check.summary}`);
    const reason =
      reasons.length > 0
        ? reasons.join(' ').slice(0, 1900)
        : 'The agent could not run the verification.';
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'verification-failed', reason },
      actor,
      orgId,
      details,
      auditData: { verificationId: row.id, commandId, failed: blocking },
    });
  }
  return updateCaseDetails(tx, {
    caseId: record.id,
    actor,
    orgId,
    action: 'case.verification-waiting',
    data: {
      verificationId: row.id,
      waitingFor: [
        ...outcome.missing,
        ...outcome.failed.filter((kind) => USER_KINDS.includes(kind)),
      ],
    },
    details,
  });
}

export async function applyVerifyResult(
  tx: Executor,
  record: CaseRecord,
  command: FinishedCommand,
  now: Date = new Date(),
): Promise<CaseRecord> {
  const parsed = VerifyResultSchema.safeParse(command.result ?? {});
  const checks: StoredCheck[] = [];
  let snapshotDocumentId: string | null = null;
  if (parsed.success) {
    for (const check of parsed.data.checks) {
      const kind = AGENT_CHECKS[check.check];
      if (kind === undefined) continue;
      let evidence = check.evidence;
      if (kind === 'snapshot-is-jpeg' && check.outcome === 'passed') {
        const kept = await keepThumbnail(tx, record, evidence.thumbnail, now);
        snapshotDocumentId = kept.documentId;
        evidence = { ...evidence, thumbnail: kept.evidence };
      }
      checks.push({
        kind,
        outcome: check.outcome,
        summary: check.reason.slice(0, 1000),
        evidence,
        checkedAt: now.toISOString(),
        by: 'agent',
      });
    }
  }
  if (checks.length === 0 && record.status === 'verifying') {
    const reason = `The verification did not run: ${messageOf(command.error)}`.slice(0, 1900);
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'verification-failed', reason },
      actor: ENGINE,
      orgId: null,
      details: (current) => markApplied(current, command.id, reason),
      auditData: { commandId: command.id },
    });
  }
  return recordVerification(tx, record, checks, command.id, ENGINE, null, snapshotDocumentId);
}

const ThumbnailSchema = z.object({
  contentType: z.literal('image/jpeg'),
  resolution: z.string().nullable().optional(),
  base64: z.string().max(200_000),
});

/**
 * Keeps the agent's thumbnail of the verification snapshot as a document of the site's owner
 * (the evidence then names the document instead of carrying the bytes). Only a real JPEG is kept.
 */
async function keepThumbnail(
  tx: Executor,
  record: CaseRecord,
  value: unknown,
  now: Date,
): Promise<{ documentId: string | null; evidence: Record<string, unknown> | null }> {
  if (value === undefined || value === null) return { documentId: null, evidence: null };
  const parsed = ThumbnailSchema.safeParse(value);
  if (!parsed.success) {
    const skipped = (value as { skipped?: unknown }).skipped;
    return {
      documentId: null,
      evidence: { skipped: typeof skipped === 'string' ? skipped.slice(0, 500) : 'malformed' },
    };
  }
  const bytes = Buffer.from(parsed.data.base64, 'base64');
  if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) {
    return { documentId: null, evidence: { skipped: 'not a JPEG' } };
  }
  const [site] = await tx
    .select({ ownerOrgId: sites.ownerOrgId })
    .from(sites)
    .where(eq(sites.id, record.siteId));
  if (site === undefined) return { documentId: null, evidence: null };
  const [document] = await tx
    .insert(documents)
    .values({
      orgId: site.ownerOrgId,
      filename: `snapshot-${record.serial}-${now.toISOString().slice(0, 19).replace(/[-:T]/g, '')}.jpg`,
      mediaType: 'image/jpeg',
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      content: bytes,
      // documents.uploaded_by names a user; the engine stores this on behalf of whoever opened
      // the case.
      uploadedBy: record.openedBy,
    })
    .returning({ id: documents.id });
  return {
    documentId: document?.id ?? null,
    evidence: {
      documentId: document?.id ?? null,
      resolution: parsed.data.resolution ?? null,
      bytes: bytes.length,
    },
  };
}

/** The agent checks of the latest verification, for re-evaluating after a confirmation. */
async function latestAgentChecks(
  tx: Executor,
  caseId: string,
): Promise<{ checks: StoredCheck[]; snapshotDocumentId: string | null } | null> {
  const [row] = await tx
    .select({ checks: verifications.checks, snapshotDocumentId: verifications.snapshotDocumentId })
    .from(verifications)
    .where(eq(verifications.caseId, caseId))
    .orderBy(desc(verifications.createdAt))
    .limit(1);
  if (row === undefined) return null;
  const parsed = StoredChecksSchema.safeParse(row.checks);
  return parsed.success
    ? {
        checks: parsed.data.filter((check) => check.by === 'agent'),
        snapshotDocumentId: row.snapshotDocumentId,
      }
    : null;
}

const CONFIRMABLE = ['provisioning', 'verifying'] as const;

export const VmsConfirmationInputSchema = z.object({
  caseId: z.uuid(),
  platform: z.string().trim().min(1, 'Name the VMS (e.g. AXIS Camera Station).').max(200),
  note: z.string().trim().max(1000).default(''),
});

/** A person confirms the camera was re-added to the VMS with its new VMS account. */
export async function confirmVms(
  db: Database,
  actor: Actor,
  input: z.input<typeof VmsConfirmationInputSchema>,
): Promise<CaseRecord> {
  const parsed = VmsConfirmationInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'confirm the VMS');
    const record = await lockCase(tx, parsed.caseId);
    if (!(CONFIRMABLE as readonly string[]).includes(record.status)) {
      throw new DomainError(
        'invalid-transition',
        `The VMS is confirmed once the camera is provisioned, not in state "${record.status}".`,
      );
    }
    const confirmed = await updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.vms-confirmed',
      data: { platform: parsed.platform },
      details: (current) => ({
        ...current,
        vmsConfirmation: {
          platform: parsed.platform,
          note: parsed.note,
          confirmedBy: { id: actor.userId, name: actor.name },
          confirmedAt: new Date().toISOString(),
        },
      }),
    });
    // The fleet audit's "not in the VMS" reads registrations; this confirmation is one.
    await recordVmsRegistration(tx, {
      serial: record.serial,
      platform: parsed.platform,
      source: 'case',
      confirmedBy: actor.userId,
    });
    return reevaluate(tx, confirmed, actor, work.orgId);
  });
}

export const RecordingAttestationInputSchema = z.object({
  caseId: z.uuid(),
  statement: z.string().trim().min(1, 'Say what you saw (VMS, time range).').max(1000),
});

/** A person attests that the VMS records the camera (for cameras without edge storage). */
export async function attestRecording(
  db: Database,
  actor: Actor,
  input: z.input<typeof RecordingAttestationInputSchema>,
): Promise<CaseRecord> {
  const parsed = RecordingAttestationInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'attest recording');
    const record = await lockCase(tx, parsed.caseId);
    if (!(CONFIRMABLE as readonly string[]).includes(record.status)) {
      throw new DomainError(
        'invalid-transition',
        `Recording is attested once the camera is provisioned, not in state "${record.status}".`,
      );
    }
    const attested = await updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.recording-attested',
      data: { statement: parsed.statement },
      details: (current) => ({
        ...current,
        recordingAttestation: {
          statement: parsed.statement,
          attestedBy: { id: actor.userId, name: actor.name },
          attestedAt: new Date().toISOString(),
        },
      }),
    });
    return reevaluate(tx, attested, actor, work.orgId);
  });
}

async function reevaluate(
  tx: Executor,
  record: CaseRecord,
  actor: Actor,
  orgId: string,
): Promise<CaseRecord> {
  if (record.status !== 'verifying' || inFlight(record.details, ['verify']).length > 0) {
    return record;
  }
  const latest = await latestAgentChecks(tx, record.id);
  if (latest === null || latest.checks.length === 0) return record;
  return recordVerification(
    tx,
    record,
    latest.checks,
    null,
    { kind: 'user', id: actor.userId },
    orgId,
    latest.snapshotDocumentId,
  );
}

/** Runs provisioning again after a failure (a re-run skips what is already done). */
export async function rerunProvisioning(
  db: Database,
  vault: Vault,
  actor: Actor,
  input: { caseId: string },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 're-run provisioning');
    const record = await lockCase(tx, input.caseId);
    if (record.status !== 'provisioning') {
      throw new DomainError('invalid-transition', 'Provisioning runs on a case in provisioning.', {
        details: { from: record.status },
      });
    }
    if (inFlight(record.details, ['provision', 'rotate-credential']).length > 0) {
      throw new DomainError('conflict', 'Provisioning is already running for this case.');
    }
    const adminId = record.details.credentials.admin;
    const adminActive =
      adminId !== null &&
      (
        await tx
          .select({ status: credentials.status })
          .from(credentials)
          .where(eq(credentials.id, adminId))
      )[0]?.status === 'active';
    const rotate = pathOf(record) === 'credential-cleanup' && !adminActive;
    const queued = rotate
      ? await queueRotation(tx, vault, record, actor.userId)
      : await queueProvision(tx, vault, record, actor.userId);
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.provisioning-requested',
      data: { commandId: queued.commandId, verb: rotate ? 'rotate-credential' : 'provision' },
      details: () => queued.details,
    });
  });
}

/** Runs verification again (after fixing what failed, or to refresh the evidence). */
export async function rerunVerification(
  db: Database,
  actor: Actor,
  input: { caseId: string },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 're-run verification');
    const record = await lockCase(tx, input.caseId);
    if (record.status !== 'verifying') {
      throw new DomainError('invalid-transition', 'Verification runs on a case in verifying.', {
        details: { from: record.status },
      });
    }
    if (inFlight(record.details, ['verify']).length > 0) {
      throw new DomainError('conflict', 'A verification is already running for this case.');
    }
    const queued = await queueVerify(tx, record, actor.userId);
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.verification-requested',
      data: { commandId: queued.commandId },
      details: () => queued.details,
    });
  });
}
