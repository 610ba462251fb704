import { desc, eq, inArray } from 'drizzle-orm';
import {
  ROLES,
  listAllowedCaseEvents,
  listNextActions,
  type AccessState,
  type CaseStatus,
  type NextAction,
  type WontResetCause,
} from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import type { Actor } from '../actor.ts';
import { grantedIntegratorOrgIds } from '../access.ts';
import { listAuditEvents } from '../audit-log.ts';
import { commandViewsByIds, type CameraCommandView } from '../cameras.ts';
import {
  CASE_CANCEL_ROLES,
  CASE_WORKER_ROLES,
  actingOrgAt,
  requireVisibleCase,
} from './case-access.ts';
import { inFlight } from './case-commands.ts';
import { DEFAULT_BUTTON_WATCH_TIMEOUT_MS } from './case-reset.ts';
import type {
  CaseDetails,
  CaseRecord,
  RecommissionPlan,
  ResetAttempt,
  ResetObservation,
} from './case-store.ts';
import {
  credentialTestBudget,
  listCandidates,
  type BudgetView,
  type CandidateView,
  type CredentialTestBudget,
} from './case-triage.ts';

const { agents, cameras, credentials, users, verifications } = schema;

export const CASE_STATE_LABELS: Record<CaseStatus, string> = {
  opened: 'Opened',
  triaged: 'Triaged',
  'awaiting-ownership': 'Ownership',
  'awaiting-approval': 'Owner approval',
  approved: 'Approved',
  resetting: 'Resetting',
  'awaiting-device': 'Waiting for the camera',
  provisioning: 'Provisioning',
  verifying: 'Verifying',
  verified: 'Verified',
  documented: 'Documented',
  denied: 'Denied',
  cancelled: 'Cancelled',
  failed: 'Failed',
  'wont-reset': 'Won’t reset',
};

export const CASE_ACTIONS = [
  'add-candidate',
  'run-access-check',
  'choose-recommission',
  'soft-restart',
  'save-plan',
  'start-cleanup',
  'start-reset',
  'diagnose-reset',
  'retry',
  'rerun-provisioning',
  'rerun-verification',
  'confirm-vms',
  'attest-recording',
  'cancel',
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

export interface MachineStep {
  status: CaseStatus;
  label: string;
  position: 'done' | 'current' | 'todo';
}

export interface DiagnosisHint {
  cause: WontResetCause;
  label: string;
  nextStep: string;
}

export interface ResetPanel {
  method: ResetAttempt['method'] | null;
  /** The control-button procedure, step by step. */
  buttonSteps: string[];
  watchTimeoutMs: number;
  /** The agent is watching for the camera right now. */
  watching: boolean;
  watchCommand: CameraCommandView | null;
  attempts: ResetAttempt[];
  /** After a reset that did not take: what was seen, the likely causes and what to do. */
  diagnosis: { observation: ResetObservation; explanation: string; hints: DiagnosisHint[] } | null;
}

export interface CaseCredentialView {
  account: 'admin' | 'service' | 'vms';
  id: string;
  username: string;
  version: number;
  status: string;
}

export interface CaseTimelineEntry {
  at: Date;
  kind: 'event' | 'command-queued' | 'command-finished';
  title: string;
  actorName: string | null;
  detail: string | null;
}

export interface CaseView {
  id: string;
  serial: string;
  revision: number;
  status: CaseStatus;
  statusLabel: string;
  state: CaseRecord['state'];
  path: 'credential-cleanup' | 'recommission' | null;
  site: { id: string; name: string; dhcpRangeStart: string | null; dhcpRangeEnd: string | null };
  camera: {
    model: string | null;
    productName: string | null;
    firmware: string | null;
    address: string | null;
    accessState: AccessState | null;
    lostAt: Date | null;
    agentName: string | null;
  };
  openedAt: Date;
  openedByName: string | null;
  updatedAt: Date;
  machine: MachineStep[];
  /** What the case waits for and who must act; `youCan` says whether the caller is one of them. */
  nextActions: (NextAction & { youCan: boolean })[];
  waitingFor: string | null;
  can: Record<CaseAction, boolean>;
  triage: CaseDetails['triage'];
  triageRunning: boolean;
  candidates: CandidateView[];
  budget: BudgetView;
  plan: RecommissionPlan | null;
  credentials: CaseCredentialView[];
  reset: ResetPanel;
  verification: {
    id: string;
    passed: boolean;
    createdAt: Date;
    checks: { kind: string; outcome: string; summary: string; by: string }[];
    snapshotDocumentId: string | null;
  } | null;
  vmsConfirmation: CaseDetails['vmsConfirmation'];
  recordingAttestation: CaseDetails['recordingAttestation'];
  lastVerificationFailure: string | null;
  engineBlocked: string | null;
  commands: CameraCommandView[];
  timeline: CaseTimelineEntry[];
}

const RESET_PATH: CaseStatus[] = [
  'opened',
  'triaged',
  'awaiting-ownership',
  'awaiting-approval',
  'approved',
  'resetting',
  'awaiting-device',
  'provisioning',
  'verifying',
  'verified',
  'documented',
];
const NO_RESET_PATH: CaseStatus[] = [
  'opened',
  'triaged',
  'awaiting-ownership',
  'provisioning',
  'verifying',
  'verified',
  'documented',
];
const CLEANUP_PATH: CaseStatus[] = [
  'opened',
  'triaged',
  'provisioning',
  'verifying',
  'verified',
  'documented',
];

/** Where a state off the main line sits on it: the step it interrupted. */
const OFF_PATH_ANCHOR: Partial<Record<CaseStatus, CaseStatus>> = {
  'wont-reset': 'awaiting-device',
  denied: 'awaiting-approval',
};

function machineOf(record: CaseRecord): MachineStep[] {
  const triage = record.details.triage;
  const state = record.state;
  const path = 'path' in state ? state.path : triage?.path;
  const resetRequired =
    'resetRequired' in state ? state.resetRequired : (triage?.resetRequired ?? true);
  const line =
    path === 'credential-cleanup' ? CLEANUP_PATH : resetRequired ? RESET_PATH : NO_RESET_PATH;
  const anchorStatus =
    state.status === 'failed' ? state.failedFrom : (OFF_PATH_ANCHOR[state.status] ?? state.status);
  const index = line.indexOf(anchorStatus);
  return line.map((status, position) => ({
    status,
    label: CASE_STATE_LABELS[status],
    position:
      index === -1 ? 'todo' : position < index ? 'done' : position === index ? 'current' : 'todo',
  }));
}

export const BUTTON_STEPS = [
  'Power the camera off (unplug the network cable if it is powered over Ethernet).',
  'Press and hold the control button.',
  'Keep holding it and power the camera on again.',
  'Keep holding for 15–30 seconds, until the status LED flashes amber.',
  'Release the button.',
  'Wait for the status LED to turn steady green: the camera is in factory-default state. The agent reports it here when it sees it.',
];

const HINTS: Record<WontResetCause, DiagnosisHint> = {
  'power-budget': {
    cause: 'power-budget',
    label: 'Power budget (PoE)',
    nextStep:
      'Check that the switch port or injector gives the PoE class the camera needs (heaters and IR need more); try a dedicated injector.',
  },
  cable: {
    cause: 'cable',
    label: 'Cable or port',
    nextStep: 'Check the link lights, re-seat or replace the cable, or try another switch port.',
  },
  bricked: {
    cause: 'bricked',
    label: 'Bricked',
    nextStep:
      'If it never answers on any address after a power cycle on a known-good port, the firmware may be damaged: contact Axis support for a repair.',
  },
  'button-timing': {
    cause: 'button-timing',
    label: 'Button timing',
    nextStep:
      'Hold the control button from before power-on, for 15–30 s until the LED flashes amber; releasing early keeps the configuration.',
  },
  'faulty-button': {
    cause: 'faulty-button',
    label: 'Faulty button',
    nextStep:
      'If the LED never flashes amber while the button is held, the button may be faulty: use a software reset if an admin credential works, or send it for repair.',
  },
};

const OBSERVATION_TEXT: Partial<
  Record<ResetObservation, { text: string; causes: WontResetCause[] }>
> = {
  'never-came-back': {
    text: 'The camera was not seen again before the watch timed out.',
    causes: ['power-budget', 'cable', 'bricked'],
  },
  'never-ready': {
    text: 'Something answered at the camera’s address but never finished starting.',
    causes: ['power-budget', 'cable', 'bricked'],
  },
  'came-back-configured': {
    text: 'The camera restarted but came back with its configuration: the reset did not take.',
    causes: ['button-timing', 'faulty-button'],
  },
  'still-configured': {
    text: 'The camera never went away: it was not reset.',
    causes: ['button-timing', 'faulty-button'],
  },
  'factory-default-unconfirmed': {
    text: 'The camera came back, but its firmware cannot say whether it is in factory-default state.',
    causes: ['button-timing', 'faulty-button'],
  },
};

function resetPanelOf(
  record: CaseRecord,
  commandsById: Map<string, CameraCommandView>,
): ResetPanel {
  const attempts = record.details.resetAttempts;
  const last = attempts.filter((attempt) => attempt.method !== 'soft-restart').at(-1) ?? null;
  const watchCommand =
    last?.watchCommandId != null ? (commandsById.get(last.watchCommandId) ?? null) : null;
  const resetCommand =
    last?.resetCommandId != null ? (commandsById.get(last.resetCommandId) ?? null) : null;
  const running = (command: CameraCommandView | null) =>
    command !== null && ['queued', 'dispatched', 'acknowledged'].includes(command.status);
  const observation = last?.observation ?? null;
  const known = observation === null ? undefined : OBSERVATION_TEXT[observation];
  const timeoutMs = last?.watchTimeoutMs ?? DEFAULT_BUTTON_WATCH_TIMEOUT_MS;
  return {
    method: last?.method ?? null,
    buttonSteps: BUTTON_STEPS,
    watchTimeoutMs: timeoutMs,
    watching: running(watchCommand) || running(resetCommand),
    watchCommand: watchCommand ?? resetCommand,
    attempts,
    diagnosis:
      known === undefined || observation === null || last?.diagnosis != null
        ? null
        : {
            observation,
            explanation: `${known.text} The agent watched for up to ${Math.round(timeoutMs / 60_000)} min (the button procedure and a full boot usually take 1–3 min)${last?.observationMessage ? `: ${last.observationMessage}` : '.'}`,
            hints: known.causes.map((cause) => HINTS[cause]),
          },
  };
}

function waitingForOf(record: CaseRecord): string | null {
  if (record.status !== 'verifying') return null;
  const verification = record.details.verification;
  if (verification === null || verification.passed) return null;
  if (inFlight(record.details, ['verify']).length > 0) return null;
  const wanted: string[] = [];
  if (verification.missing.includes('vms-updated')) {
    wanted.push('a confirmation that the camera was re-added to the VMS');
  }
  if (
    verification.missing.includes('recording-present') ||
    verification.failed.includes('recording-present')
  ) {
    wanted.push('recordings on edge storage, or an attestation that the VMS records it');
  }
  return wanted.length === 0 ? null : `Waiting for ${wanted.join(' and ')}.`;
}

const PLANNABLE: readonly CaseStatus[] = [
  'opened',
  'triaged',
  'awaiting-ownership',
  'awaiting-approval',
  'approved',
  'resetting',
  'awaiting-device',
  'provisioning',
  'wont-reset',
];

function actionsOf(
  record: CaseRecord,
  worker: boolean,
  canceller: boolean,
): Record<CaseAction, boolean> {
  const status = record.status;
  const details = record.details;
  const triaging = status === 'opened' || status === 'triaged';
  const triageBusy = inFlight(details, ['triage-probe', 'triage-test']).length > 0;
  const cleanup = record.state.status === 'triaged' && record.state.path === 'credential-cleanup';
  return {
    'add-candidate': worker && triaging,
    'run-access-check': worker && triaging && !triageBusy,
    'choose-recommission': worker && cleanup,
    'soft-restart':
      worker &&
      triaging &&
      details.triage?.workingAdmin != null &&
      inFlight(details, ['soft-restart']).length === 0,
    'save-plan': worker && PLANNABLE.includes(status),
    'start-cleanup': worker && cleanup,
    'start-reset': worker && status === 'approved',
    'diagnose-reset': worker && (status === 'resetting' || status === 'awaiting-device'),
    retry: worker && (status === 'wont-reset' || status === 'failed'),
    'rerun-provisioning':
      worker &&
      status === 'provisioning' &&
      inFlight(details, ['provision', 'rotate-credential']).length === 0,
    'rerun-verification':
      worker && status === 'verifying' && inFlight(details, ['verify']).length === 0,
    'confirm-vms': worker && (status === 'provisioning' || status === 'verifying'),
    'attest-recording': worker && (status === 'provisioning' || status === 'verifying'),
    cancel: canceller && listAllowedCaseEvents(record.state).includes('cancelled'),
  };
}

function describeEvent(action: string, data: Record<string, unknown>): string | null {
  const parts: string[] = [];
  if (typeof data.from === 'string' && typeof data.to === 'string') {
    parts.push(`${data.from} → ${data.to}`);
  }
  for (const key of ['reason', 'path', 'method', 'observation', 'platform', 'statement']) {
    const value = data[key];
    if (typeof value === 'string') parts.push(`${key}: ${value}`);
  }
  if (Array.isArray(data.reasons)) parts.push(data.reasons.join(' '));
  if (action === 'case.access-check-started' && Array.isArray(data.tested)) {
    parts.push(`${data.tested.length} credential(s) sent for testing`);
  }
  return parts.length === 0 ? null : parts.join(' · ').slice(0, 2000);
}

const VERB_TITLES: Record<string, string> = {
  probe: 'Probe',
  'test-credential': 'Credential test',
  'rotate-credential': 'Password rotation',
  'soft-restart': 'Soft restart',
  'factory-default-soft': 'Soft factory default',
  'factory-default-hard': 'Hard factory default',
  'watch-for-device': 'Watching for the camera',
  provision: 'Provisioning',
  verify: 'Verification',
};

/** Everything the case page shows, for an actor who may see the case's site. */
export async function getCaseView(
  db: Database,
  actor: Actor,
  caseId: string,
  options: { budget?: CredentialTestBudget } = {},
): Promise<CaseView> {
  const { record, site } = await requireVisibleCase(db, actor, caseId);
  const worker = (await actingOrgAt(db, actor, site, CASE_WORKER_ROLES)) !== null;
  const canceller = (await actingOrgAt(db, actor, site, CASE_CANCEL_ROLES)) !== null;
  const integratorOrgIds = await grantedIntegratorOrgIds(db, actor, site.id, ROLES);
  const roles = new Set(
    actor.memberships
      .filter(
        (membership) =>
          membership.orgId === site.ownerOrgId || integratorOrgIds.includes(membership.orgId),
      )
      .map((membership) => membership.role),
  );
  const [camera] = await db
    .select({
      model: cameras.model,
      productName: cameras.productName,
      firmware: cameras.firmware,
      address: cameras.address,
      accessState: cameras.accessState,
      lostAt: cameras.lostAt,
      agentName: agents.name,
    })
    .from(cameras)
    .leftJoin(agents, eq(agents.id, cameras.agentId))
    .where(eq(cameras.serial, record.serial));
  const [opener] = await db
    .select({ name: users.name })
    .from(users)
    .where(eq(users.id, record.openedBy));
  const commandViews = await commandViewsByIds(
    db,
    record.details.commands.map((ref) => ref.id),
  );
  commandViews.sort((a, b) => b.queuedAt.getTime() - a.queuedAt.getTime());
  const commandsById = new Map(commandViews.map((command) => [command.id, command]));
  const credentialIds = [
    record.details.credentials.admin,
    record.details.credentials.service,
    record.details.credentials.vms,
  ].filter((id): id is string => id !== null);
  const credentialRows =
    credentialIds.length === 0
      ? []
      : await db
          .select({
            id: credentials.id,
            account: credentials.account,
            username: credentials.username,
            version: credentials.version,
            status: credentials.status,
          })
          .from(credentials)
          .where(inArray(credentials.id, credentialIds));
  const [verification] = await db
    .select()
    .from(verifications)
    .where(eq(verifications.caseId, record.id))
    .orderBy(desc(verifications.createdAt))
    .limit(1);
  const events = await listAuditEvents(db, {
    scope: 'all',
    subject: { kind: 'case', id: record.id },
    limit: 200,
  });
  const actorIds = [
    ...new Set(
      events
        .filter((event) => event.content.actor.kind === 'user')
        .map((event) => event.content.actor.id),
    ),
  ];
  const names = new Map(
    actorIds.length === 0
      ? []
      : (
          await db
            .select({ id: users.id, name: users.name })
            .from(users)
            .where(inArray(users.id, actorIds))
        ).map((row) => [row.id, row.name]),
  );
  const timeline: CaseTimelineEntry[] = events.map((event) => ({
    at: new Date(event.content.at),
    kind: 'event',
    title: event.content.action.replace(/^case\./, '').replace(/-/g, ' '),
    actorName:
      event.content.actor.kind === 'user'
        ? (names.get(event.content.actor.id) ?? 'a user')
        : event.content.actor.kind === 'agent'
          ? 'agent'
          : 'Custody',
    detail: describeEvent(event.content.action, event.content.data),
  }));
  for (const command of commandViews) {
    const title = VERB_TITLES[command.verb] ?? command.verb;
    timeline.push({
      at: command.queuedAt,
      kind: 'command-queued',
      title: `${title} queued`,
      actorName: command.requestedByName ?? 'Custody',
      detail: null,
    });
    if (command.completedAt !== null) {
      timeline.push({
        at: command.completedAt,
        kind: 'command-finished',
        title: `${title} ${command.status}`,
        actorName: 'agent',
        detail: command.error?.message ?? command.progress?.message ?? null,
      });
    }
  }
  timeline.sort((a, b) => b.at.getTime() - a.at.getTime());

  const state = record.state;
  const checks =
    verification === undefined
      ? []
      : (verification.checks as { kind: string; outcome: string; summary?: string; by?: string }[]);
  const engineBlocked = record.details.engineBlocked as
    { revision?: unknown; reason?: unknown } | undefined;
  return {
    id: record.id,
    serial: record.serial,
    revision: record.revision,
    status: record.status,
    statusLabel: CASE_STATE_LABELS[record.status],
    state,
    path: 'path' in state ? state.path : null,
    site: {
      id: site.id,
      name: site.name,
      dhcpRangeStart: site.dhcpRangeStart,
      dhcpRangeEnd: site.dhcpRangeEnd,
    },
    camera: camera ?? {
      model: null,
      productName: null,
      firmware: null,
      address: null,
      accessState: null,
      lostAt: null,
      agentName: null,
    },
    openedAt: record.openedAt,
    openedByName: opener?.name ?? null,
    updatedAt: record.updatedAt,
    machine: machineOf(record),
    nextActions: listNextActions(state).map((action) => ({
      ...action,
      youCan: action.actors.some((who) => who !== 'agent' && roles.has(who)),
    })),
    waitingFor: waitingForOf(record),
    can: actionsOf(record, worker, canceller),
    triage: record.details.triage,
    triageRunning: inFlight(record.details, ['triage-probe', 'triage-test']).length > 0,
    candidates: await listCandidates(db, record.id),
    budget: await credentialTestBudget(db, record.serial, options.budget),
    plan: record.details.plan,
    credentials: credentialRows.map((row) => ({ ...row })),
    reset: resetPanelOf(record, commandsById),
    verification:
      verification === undefined
        ? null
        : {
            id: verification.id,
            passed: verification.passed,
            createdAt: verification.createdAt,
            checks: checks.map((check) => ({
              kind: check.kind,
              outcome: check.outcome,
              summary: check.summary ?? '',
              by: check.by ?? 'agent',
            })),
            snapshotDocumentId: verification.snapshotDocumentId,
          },
    vmsConfirmation: record.details.vmsConfirmation,
    recordingAttestation: record.details.recordingAttestation,
    lastVerificationFailure: state.status === 'provisioning' ? state.lastVerificationFailure : null,
    engineBlocked:
      engineBlocked?.revision === record.details.enteredRevision &&
      typeof engineBlocked.reason === 'string'
        ? engineBlocked.reason
        : null,
    commands: commandViews,
    timeline,
  };
}
