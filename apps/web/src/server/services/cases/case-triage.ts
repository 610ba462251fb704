import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  DomainError,
  triageCamera,
  type AccessState,
  type CredentialTest,
  type CredentialTestOutcome,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';
import { sealCandidatePassword } from '../vault/candidate-secrets.ts';
import type { Vault } from '../vault/vault.ts';
import { requireCaseWork } from './case-access.ts';
import { entryOf, inFlight, markApplied, queueCaseCommand, withCommand } from './case-commands.ts';
import {
  applyCaseEvent,
  lockCase,
  updateCaseDetails,
  type CaseRecord,
  type CaseTriageDetails,
  type CredentialOrigin,
  type TriageRun,
} from './case-store.ts';

const { commands, credentialCandidates, credentials } = schema;

/**
 * Credential tests are rationed per camera: at most `attempts` credentials tried per `windowMs`,
 * counted from the test-credential commands queued for the serial (whoever queued them), so the
 * rule holds across cases, users and server processes.
 */
export interface CredentialTestBudget {
  attempts: number;
  windowMs: number;
}

export const DEFAULT_CREDENTIAL_TEST_BUDGET: CredentialTestBudget = {
  attempts: 3,
  windowMs: 15 * 60_000,
};

/** Candidates a case may hold untested at once: a handover sheet, not a word list. */
export const MAX_UNTESTED_CANDIDATES = 10;

export interface BudgetView {
  limit: number;
  used: number;
  remaining: number;
  windowMs: number;
  /** When the oldest attempt in the window leaves it (null when none is in it). */
  nextAttemptAt: Date | null;
}

/** How much of the camera's credential-test budget is spent in the current window. */
export async function credentialTestBudget(
  db: Executor,
  serial: string,
  budget: CredentialTestBudget = DEFAULT_CREDENTIAL_TEST_BUDGET,
  now: Date = new Date(),
): Promise<BudgetView> {
  const since = new Date(now.getTime() - budget.windowMs);
  const rows = await db
    .select({
      queuedAt: commands.queuedAt,
      tried: sql<number>`coalesce(jsonb_array_length(${commands.params}->'credentials'), 0)::int`,
    })
    .from(commands)
    .where(
      and(
        eq(commands.serial, serial),
        eq(commands.verb, 'test-credential'),
        gt(commands.queuedAt, since),
      ),
    )
    .orderBy(asc(commands.queuedAt));
  const used = rows.reduce((sum, row) => sum + row.tried, 0);
  const oldest = rows[0];
  return {
    limit: budget.attempts,
    used,
    remaining: Math.max(0, budget.attempts - used),
    windowMs: budget.windowMs,
    nextAttemptAt:
      oldest === undefined ? null : new Date(oldest.queuedAt.getTime() + budget.windowMs),
  };
}

export const CandidateInputSchema = z.object({
  caseId: z.uuid(),
  username: z
    .string()
    .trim()
    .min(1, 'A user name is required.')
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'A device user name is letters, digits, "_", "." or "-".'),
  password: z.string().min(1, 'A password is required.').max(256),
  source: z.string().trim().max(200).default(''),
});
export type CandidateInput = z.input<typeof CandidateInputSchema>;

export interface CandidateView {
  id: string;
  username: string;
  source: string;
  createdAt: Date;
  testedAt: Date | null;
  outcome: string | null;
}

const TRIAGE_STATES = ['opened', 'triaged'] as const;

function requireTriageState(record: CaseRecord, what: string): void {
  if (!(TRIAGE_STATES as readonly string[]).includes(record.status)) {
    throw new DomainError(
      'invalid-transition',
      `Cannot ${what} on a case in state "${record.status}"; triage happens before anything else.`,
      { details: { from: record.status } },
    );
  }
}

/**
 * Seals a password the technician typed for this camera into `credential_candidates`. It is
 * only ever tried against this serial, through the access check. The password is not returned.
 */
export async function addCandidate(
  db: Database,
  vault: Vault,
  actor: Actor,
  input: CandidateInput,
): Promise<CandidateView> {
  const parsed = CandidateInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'add a credential candidate');
    const record = await lockCase(tx, parsed.caseId);
    requireTriageState(record, 'add a candidate');
    const [pending] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(credentialCandidates)
      .where(
        and(eq(credentialCandidates.caseId, record.id), isNull(credentialCandidates.testedAt)),
      );
    if ((pending?.count ?? 0) >= MAX_UNTESTED_CANDIDATES) {
      throw new DomainError(
        'invalid-input',
        `This case already holds ${MAX_UNTESTED_CANDIDATES} untested candidates; run the access check first.`,
      );
    }
    const id = randomUUID();
    const sealed = sealCandidatePassword(vault, {
      id,
      serial: record.serial,
      password: parsed.password,
    });
    const [row] = await tx
      .insert(credentialCandidates)
      .values({
        id,
        serial: record.serial,
        caseId: record.id,
        username: parsed.username,
        ciphertext: sealed.ciphertext,
        wrappedKey: sealed.wrappedKey,
        keyId: sealed.keyId,
        source: parsed.source,
        createdBy: actor.userId,
      })
      .returning();
    if (row === undefined) throw new Error('The candidate insert returned no row.');
    await updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.candidate-added',
      data: { candidateId: id, username: parsed.username, source: parsed.source },
      details: (current) => current,
    });
    return {
      id: row.id,
      username: row.username,
      source: row.source,
      createdAt: row.createdAt,
      testedAt: row.testedAt,
      outcome: row.outcome,
    };
  });
}

export async function listCandidates(db: Executor, caseId: string): Promise<CandidateView[]> {
  return db
    .select({
      id: credentialCandidates.id,
      username: credentialCandidates.username,
      source: credentialCandidates.source,
      createdAt: credentialCandidates.createdAt,
      testedAt: credentialCandidates.testedAt,
      outcome: credentialCandidates.outcome,
    })
    .from(credentialCandidates)
    .where(eq(credentialCandidates.caseId, caseId))
    .orderBy(asc(credentialCandidates.createdAt));
}

interface KnownCredential extends CredentialOrigin {
  label: string;
  username: string;
}

/** The vault's active credentials of the camera, then this case's untested candidates. */
async function knownCredentials(tx: Executor, record: CaseRecord): Promise<KnownCredential[]> {
  const vaulted = await tx
    .select({
      id: credentials.id,
      account: credentials.account,
      username: credentials.username,
      version: credentials.version,
    })
    .from(credentials)
    .where(
      and(
        eq(credentials.serial, record.serial),
        eq(credentials.status, 'active'),
        inArray(credentials.account, ['admin', 'service']),
      ),
    )
    .orderBy(asc(credentials.account));
  const candidates = await tx
    .select({
      id: credentialCandidates.id,
      username: credentialCandidates.username,
      source: credentialCandidates.source,
    })
    .from(credentialCandidates)
    .where(and(eq(credentialCandidates.caseId, record.id), isNull(credentialCandidates.testedAt)))
    .orderBy(asc(credentialCandidates.createdAt));
  return [
    ...vaulted.map((row) => ({
      source: 'vault' as const,
      id: row.id,
      username: row.username,
      label: `vault ${row.account} credential v${row.version}`,
    })),
    ...candidates.map((row) => ({
      source: 'candidate' as const,
      id: row.id,
      username: row.username,
      label: row.source === '' ? 'candidate entered for this camera' : `candidate (${row.source})`,
    })),
  ];
}

export interface AccessCheckStarted {
  probeCommandId: string;
  testCommandId: string | null;
  tested: number;
  untested: number;
  budget: BudgetView;
}

/**
 * Runs the access check: a probe, and one test-credential command with the known credentials the
 * budget allows (the rest are recorded as not tried). The results arrive through the agent and
 * the case engine records the triage decision.
 */
export async function runAccessCheck(
  db: Database,
  actor: Actor,
  input: { caseId: string },
  options: { budget?: CredentialTestBudget; now?: Date } = {},
): Promise<AccessCheckStarted> {
  const now = options.now ?? new Date();
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 'run the access check');
    const record = await lockCase(tx, input.caseId);
    requireTriageState(record, 'run the access check');
    if (inFlight(record.details, ['triage-probe', 'triage-test']).length > 0) {
      throw new DomainError('conflict', 'An access check is already running for this case.');
    }
    // Serialises budget checks for one camera across cases and processes.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(${`custody-credential-tests|${record.serial}`}))`,
    );
    const budget = await credentialTestBudget(tx, record.serial, options.budget, now);
    const known = await knownCredentials(tx, record);
    const sent = known.slice(0, budget.remaining);
    const untested = known.slice(budget.remaining);
    const stateRevision = record.details.enteredRevision;
    const probe = await queueCaseCommand(tx, record, {
      purpose: 'triage-probe',
      verb: 'probe',
      params: {},
      requestedBy: actor.userId,
      stateRevision,
    });
    const tested = sent.map((credential, index) => ({
      ...credential,
      ref: `known-${index + 1}`,
    }));
    const test =
      tested.length === 0
        ? null
        : await queueCaseCommand(tx, record, {
            purpose: 'triage-test',
            verb: 'test-credential',
            params: { credentials: tested.map((credential) => credential.ref) },
            secretsRef: Object.fromEntries(
              tested.map((credential) => [credential.ref, entryOf(credential)]),
            ),
            requestedBy: actor.userId,
            stateRevision,
          });
    const run: TriageRun = {
      startedAt: now.toISOString(),
      startedBy: { id: actor.userId, name: actor.name },
      probeCommandId: probe.id,
      testCommandId: test?.id ?? null,
      tested,
      untested,
      probe: null,
      tests: null,
      summary: null,
      finishedAt: null,
    };
    await updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.access-check-started',
      data: {
        probeCommandId: probe.id,
        testCommandId: test?.id ?? null,
        tested: tested.map((credential) => ({
          source: credential.source,
          id: credential.id,
          username: credential.username,
        })),
        notTriedBudget: untested.length,
        budgetRemaining: budget.remaining - tested.length,
      },
      details: (current) => {
        let details = withCommand(current, probe);
        if (test !== null) details = withCommand(details, test);
        return { ...details, triageRun: run };
      },
    });
    return {
      probeCommandId: probe.id,
      testCommandId: test?.id ?? null,
      tested: tested.length,
      untested: untested.length,
      budget: {
        ...budget,
        used: budget.used + tested.length,
        remaining: budget.remaining - tested.length,
      },
    };
  });
}

export interface FinishedCommand {
  id: string;
  status: string;
  result: unknown;
  error: unknown;
}

const ProbeResultSchema = z.object({
  accessState: z.enum([
    'authenticated',
    'needs-setup',
    'login-failed',
    'locked-out',
    'unreachable',
  ]),
  identity: z.object({ model: z.string().nullable().optional() }).nullable().optional(),
});

const TestResultSchema = z.object({
  credentials: z.array(
    z.object({
      ref: z.string(),
      outcome: z.string(),
      isAdmin: z.boolean().nullable().optional(),
    }),
  ),
});

function mapTestOutcome(outcome: string): { outcome: CredentialTestOutcome; lockedOut: boolean } {
  switch (outcome) {
    case 'works':
      return { outcome: 'works', lockedOut: false };
    case 'rejected':
      return { outcome: 'rejected', lockedOut: false };
    case 'not-tried-budget-spent':
      return { outcome: 'budget-exhausted', lockedOut: false };
    case 'locked-out':
      return { outcome: 'not-tested', lockedOut: true };
    default:
      return { outcome: 'not-tested', lockedOut: false };
  }
}

function errorMessageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : 'the command did not complete';
}

/** Records a finished probe or test-credential command; decides once both are in. */
export async function applyTriageCommand(
  tx: Executor,
  record: CaseRecord,
  command: FinishedCommand,
  purpose: 'triage-probe' | 'triage-test',
): Promise<CaseRecord> {
  const run = record.details.triageRun;
  const isCurrentRun =
    run !== null &&
    (purpose === 'triage-probe' ? run.probeCommandId : run.testCommandId) === command.id;
  let outcome: string;
  let nextRun = run;
  if (!isCurrentRun || run === null) {
    outcome = 'superseded by a later access check';
  } else if (purpose === 'triage-probe') {
    const parsed =
      command.status === 'succeeded' ? ProbeResultSchema.safeParse(command.result) : null;
    const probe =
      parsed?.success === true
        ? { accessState: parsed.data.accessState, model: parsed.data.identity?.model ?? null }
        : { accessState: 'unreachable' as AccessState, model: null };
    outcome =
      parsed?.success === true
        ? `access state ${probe.accessState}`
        : `probe failed: ${errorMessageOf(command.error)}`;
    nextRun = { ...run, probe };
  } else {
    const parsed =
      command.status === 'succeeded' || command.result !== null
        ? TestResultSchema.safeParse(command.result)
        : null;
    const byRef = new Map(
      parsed?.success === true ? parsed.data.credentials.map((entry) => [entry.ref, entry]) : [],
    );
    const tests = run.tested.map((credential) => {
      const entry = byRef.get(credential.ref);
      const mapped = entry === undefined ? null : mapTestOutcome(entry.outcome);
      return {
        ref: credential.ref,
        outcome: mapped?.outcome ?? ('not-tested' as const),
        isAdmin: entry?.isAdmin ?? null,
        lockedOut: mapped?.lockedOut ?? false,
      };
    });
    const works = tests.filter((test) => test.outcome === 'works').length;
    outcome =
      parsed?.success === true
        ? `${works} of ${tests.length} credential(s) work`
        : `credential test failed: ${errorMessageOf(command.error)}`;
    nextRun = { ...run, tests };
  }

  const done =
    nextRun !== null &&
    nextRun.probe !== null &&
    (nextRun.testCommandId === null || nextRun.tests !== null);
  if (!done || nextRun === null || !isCurrentRun) {
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'system', id: 'case-engine' },
      orgId: null,
      details: (current) => ({
        ...markApplied(current, command.id, outcome),
        triageRun: isCurrentRun ? nextRun : current.triageRun,
      }),
    });
  }
  return decideTriage(tx, record, command.id, outcome, nextRun);
}

function testsOf(run: TriageRun): (CredentialTest & CredentialOrigin)[] {
  const byRef = new Map((run.tests ?? []).map((test) => [test.ref, test]));
  return [
    ...run.tested.map((credential) => {
      const test = byRef.get(credential.ref);
      return {
        source: credential.source,
        id: credential.id,
        label: credential.label,
        username: credential.username,
        outcome: test?.outcome ?? 'not-tested',
        ...(test?.isAdmin === null || test?.isAdmin === undefined ? {} : { isAdmin: test.isAdmin }),
      };
    }),
    ...run.untested.map((credential) => ({
      source: credential.source,
      id: credential.id,
      label: credential.label,
      username: credential.username,
      outcome: 'budget-exhausted' as const,
    })),
  ];
}

async function decideTriage(
  tx: Executor,
  record: CaseRecord,
  commandId: string,
  outcome: string,
  run: TriageRun,
): Promise<CaseRecord> {
  const lockedOut = (run.tests ?? []).some((test) => test.lockedOut);
  const accessState: AccessState = lockedOut
    ? 'locked-out'
    : (run.probe?.accessState ?? 'unreachable');
  const tests = testsOf(run);
  const decision = triageCamera({
    probe: {
      accessState,
      identity: { serial: record.serial, ...(run.probe?.model ? { model: run.probe.model } : {}) },
    },
    credentialTests: tests.map((test) => ({
      label: test.label,
      username: test.username,
      outcome: test.outcome,
      ...(test.isAdmin === undefined ? {} : { isAdmin: test.isAdmin }),
    })),
  });
  const working = tests.find((test) => test.outcome === 'works' && test.isAdmin === true);
  const now = new Date();
  const triage: CaseTriageDetails = {
    path: decision.path,
    resetRequired: decision.resetRequired,
    reasons: decision.reasons,
    accessState,
    credentialTests: tests.map((test) => ({
      source: test.source,
      id: test.id,
      label: test.label,
      username: test.username,
      outcome: test.outcome,
      ...(test.isAdmin === undefined ? {} : { isAdmin: test.isAdmin }),
    })),
    workingAdmin:
      working === undefined
        ? null
        : { source: working.source, id: working.id, username: working.username },
    decidedAt: now.toISOString(),
    decidedBy: run.startedBy,
  };
  const candidateOutcomes = tests.filter((test) => test.source === 'candidate');
  for (const test of candidateOutcomes) {
    await tx
      .update(credentialCandidates)
      .set({
        outcome: test.outcome,
        testedAt: test.outcome === 'budget-exhausted' || test.outcome === 'not-tested' ? null : now,
      })
      .where(eq(credentialCandidates.id, test.id));
  }
  const finishedRun: TriageRun = { ...run, finishedAt: now.toISOString(), summary: outcome };
  const details = (current: CaseRecord['details']) => ({
    ...markApplied(current, commandId, outcome),
    triageRun: finishedRun,
    triage,
  });
  if (decision.path === 'blocked') {
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'system', id: 'case-engine' },
      orgId: null,
      action: 'case.triage-blocked',
      data: { accessState, reasons: decision.reasons },
      details,
    });
  }
  return applyCaseEvent(tx, {
    caseId: record.id,
    event: {
      type: 'triage-completed',
      path: decision.path,
      resetRequired: decision.resetRequired,
      reasons: decision.reasons,
    },
    actor: { kind: 'system', id: 'case-engine' },
    orgId: null,
    details,
    auditData: {
      accessState,
      workingAdmin:
        triage.workingAdmin === null
          ? null
          : { source: triage.workingAdmin.source, username: triage.workingAdmin.username },
    },
  });
}

/**
 * The technician chooses a full recommission (reset) although an admin credential works, e.g. to
 * wipe a configuration nobody can account for. The working credential then drives a software
 * factory default.
 */
export async function chooseRecommission(
  db: Database,
  actor: Actor,
  input: { caseId: string; reason: string; expectedRevision?: number | undefined },
): Promise<CaseRecord> {
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, input.caseId, 'choose a recommission');
    const { record } = work;
    const triage = record.details.triage;
    if (record.state.status !== 'triaged' || record.state.path !== 'credential-cleanup') {
      throw new DomainError(
        'invalid-transition',
        'Only a case triaged for credential clean-up can be switched to a recommission.',
        { details: { from: record.status } },
      );
    }
    if (triage === null) throw new DomainError('conflict', 'The case has no triage record.');
    const reasons = [
      ...triage.reasons,
      `${actor.name} chose a full recommission (factory reset) instead: ${input.reason.trim()}`,
    ];
    return applyCaseEvent(tx, {
      caseId: record.id,
      event: { type: 'triage-completed', path: 'recommission', resetRequired: true, reasons },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      expectedRevision: input.expectedRevision,
      details: (current) => ({
        ...current,
        triage: {
          ...triage,
          path: 'recommission',
          resetRequired: true,
          reasons,
          decidedAt: new Date().toISOString(),
          decidedBy: { id: actor.userId, name: actor.name },
        },
      }),
    });
  });
}
