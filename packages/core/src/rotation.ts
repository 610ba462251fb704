import { z } from 'zod';
import { DomainError } from './domain-error.ts';
import { CREDENTIAL_ACCOUNTS } from './schemas/credential-reference.ts';

/*
 * Bulk credential rotation: the rules, without I/O. One camera's rotation is a small state
 * machine whose one invariant is that the camera's working password is always in the vault: the
 * new password is vaulted (pending) before any command carries it, it becomes the active version
 * only on proof, and it is thrown away only on proof that the camera does not hold it.
 */

export const ROTATION_ITEM_STATUSES = [
  'queued',
  'changing',
  'checking',
  'rotated',
  'failed',
  'skipped',
] as const;
export type RotationItemStatus = (typeof ROTATION_ITEM_STATUSES)[number];

/** A command is out for the camera, or its outcome is unknown: it may hold either password. */
export const ROTATION_IN_FLIGHT_STATUSES = ['changing', 'checking'] as const;
/** Not finished: at most one item per camera across all jobs is in one of these. */
export const ROTATION_OPEN_STATUSES = ['queued', 'changing', 'checking'] as const;
export const ROTATION_DONE_STATUSES = ['rotated', 'failed', 'skipped'] as const;

export const ROTATION_JOB_STATUSES = [
  'running',
  'paused',
  'stopped',
  'completed',
  'cancelled',
] as const;
export type RotationJobStatus = (typeof ROTATION_JOB_STATUSES)[number];

/** Why a camera of the selection is not rotated. */
export const ROTATION_SKIP_REASONS = [
  'not-in-scope',
  'no-vaulted-credential',
  'no-vaulted-admin',
  'open-case',
  'in-running-rotation',
  'no-agent',
  'not-queued',
  'cancelled',
] as const;
export type RotationSkipReason = (typeof ROTATION_SKIP_REASONS)[number];

export const ROTATION_SKIP_LABELS: Readonly<Record<RotationSkipReason, string>> = {
  'not-in-scope': 'not found among the cameras you may rotate',
  'no-vaulted-credential': 'no active vaulted password for this account',
  'no-vaulted-admin': 'no active vaulted admin password to log in with',
  'open-case': 'a recommissioning case is open for it',
  'in-running-rotation': 'already in a rotation that has not finished',
  'no-agent': 'no agent of its site reports it',
  'not-queued': 'its command could not be queued',
  cancelled: 'the rotation was cancelled before its turn',
};

export const ROTATION_LIMITS = {
  canarySize: { min: 1, max: 100, default: 5 },
  waveSize: { min: 1, max: 1000, default: 50 },
  maxFailures: { min: 0, max: 1000, default: 0 },
} as const;

export const RotationSettingsSchema = z.object({
  account: z.enum(CREDENTIAL_ACCOUNTS).default('admin'),
  canarySize: z
    .int()
    .min(ROTATION_LIMITS.canarySize.min)
    .max(ROTATION_LIMITS.canarySize.max)
    .default(ROTATION_LIMITS.canarySize.default),
  waveSize: z
    .int()
    .min(ROTATION_LIMITS.waveSize.min)
    .max(ROTATION_LIMITS.waveSize.max)
    .default(ROTATION_LIMITS.waveSize.default),
  maxFailures: z
    .int()
    .min(ROTATION_LIMITS.maxFailures.min)
    .max(ROTATION_LIMITS.maxFailures.max)
    .default(ROTATION_LIMITS.maxFailures.default),
});
export type RotationSettings = z.infer<typeof RotationSettingsSchema>;

export interface RotationCandidate {
  serial: string;
  siteId: string;
  model: string | null;
}

function bySiteThenSerial(a: RotationCandidate, b: RotationCandidate): number {
  if (a.siteId !== b.siteId) return a.siteId < b.siteId ? -1 : 1;
  return a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0;
}

/**
 * Which wave each camera rotates in: wave 0 is the canary, then waves of `waveSize`. The canary
 * should look like the fleet, so it takes one camera of each model in turn (and within a model,
 * one site after another) before a second of any. The waves take the sites in turn as well (the
 * first camera of every site, then the second, …), so every site's agent works in every wave
 * rather than one site at a time, and a site whose cameras fail shows it in the first wave.
 * Deterministic: the same cameras give the same plan.
 */
export function planRotationWaves(
  cameras: readonly RotationCandidate[],
  sizes: { canarySize: number; waveSize: number },
): Map<string, number> {
  const sorted = [...cameras].sort(bySiteThenSerial);
  const groups = new Map<string, RotationCandidate[]>();
  for (const camera of sorted) {
    const key = camera.model ?? '\u{10FFFF}';
    const group = groups.get(key) ?? [];
    group.push(camera);
    groups.set(key, group);
  }
  const queues = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => interleaveSites(group));
  const plan = new Map<string, number>();
  const canarySize = Math.min(sizes.canarySize, sorted.length);
  while (plan.size < canarySize) {
    for (const queue of queues) {
      const next = queue.shift();
      if (next !== undefined && plan.size < canarySize) plan.set(next.serial, 0);
    }
  }
  let index = 0;
  for (const camera of interleaveSites(sorted)) {
    if (plan.has(camera.serial)) continue;
    plan.set(camera.serial, 1 + Math.floor(index / sizes.waveSize));
    index += 1;
  }
  return plan;
}

/** Cameras one site after another: the first of each site, then the second, … */
function interleaveSites(group: readonly RotationCandidate[]): RotationCandidate[] {
  const rank = new Map<string, number>();
  const ranked = group.map((camera) => {
    const position = rank.get(camera.siteId) ?? 0;
    rank.set(camera.siteId, position + 1);
    return { camera, position };
  });
  return ranked
    .sort((a, b) => a.position - b.position || bySiteThenSerial(a.camera, b.camera))
    .map((entry) => entry.camera);
}

/** A finished command as the commands table holds it. */
export interface RotationCommandOutcome {
  /** succeeded, failed, expired or cancelled. */
  status: string;
  /** How many times the gateway claimed it for sending: 0 means the agent never saw it. */
  dispatchCount: number;
  result: unknown;
  error: unknown;
}

/** What went wrong, in words fit for the job page (agent messages carry no secret). */
export interface RotationProblem {
  code: string;
  message: string;
}

export type ChangeVerdict =
  /** The agent proved the new password works and the old one fails. */
  | { verdict: 'proven'; lockedOut: false }
  /** Proof that the camera never got the new password: the change did not happen. */
  | { verdict: 'unchanged'; problem: RotationProblem; lockedOut: boolean }
  /** The camera may hold either password: only a test of both tells. */
  | { verdict: 'unknown'; problem: RotationProblem; lockedOut: boolean; retryAfterMs?: number };

export type CheckVerdict =
  | { verdict: 'new-works'; lockedOut: boolean }
  | { verdict: 'old-works'; lockedOut: boolean }
  /** Both vaulted passwords were rejected: the camera's password was changed elsewhere. */
  | { verdict: 'neither'; lockedOut: boolean }
  | { verdict: 'unknown'; problem: RotationProblem; lockedOut: boolean; retryAfterMs?: number };

const MAX_MESSAGE = 500;

/** The gateway failed the command itself before sending it (it never reached the agent). */
const UNSENT_CODES = new Set(['unsupported-verb', 'secrets-unavailable', 'malformed']);
/**
 * Failures the rotate-credential verb reports only before it sends the change: locating the
 * camera, finding the account, checking the password against the camera's policy. (Codes that a
 * VAPIX error during the change can also produce, such as unreachable or login-failed, are not
 * here: those count as "unchanged" only when the result says `passwordChanged: false`.)
 */
const BEFORE_CHANGE_CODES = new Set([
  'no-address',
  'wrong-device',
  'unidentified',
  'not-admin',
  'no-such-account',
  'password-policy',
  'not-run',
]);

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

function problemOf(command: RotationCommandOutcome, fallback: RotationProblem): RotationProblem {
  const error = recordOf(command.error);
  const code = typeof error.code === 'string' && error.code !== '' ? error.code : fallback.code;
  const message =
    typeof error.message === 'string' && error.message !== '' ? error.message : fallback.message;
  return { code: clip(code), message: clip(message) };
}

function retryAfterOf(result: Record<string, unknown>): number | undefined {
  const value = result.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

const NEVER_SENT: RotationProblem = {
  code: 'not-sent',
  message: 'The command ended before it was sent to the agent; the camera was not touched.',
};

/**
 * Reads the result of a rotate-credential command. Only proof counts: a change is "proven" when
 * the agent saw the new password work and the old one fail, "unchanged" when it provably never
 * reached the camera, and anything else (interrupted, timed out mid-change, sent and then
 * expired, unverified) is "unknown".
 */
export function interpretChangeResult(command: RotationCommandOutcome): ChangeVerdict {
  const result = recordOf(command.result);
  const error = recordOf(command.error);
  const code = typeof error.code === 'string' ? error.code : '';
  const lockedOut =
    code === 'locked-out' ||
    result.newCredentialCheck === 'locked-out' ||
    result.oldCredentialCheck === 'locked-out';
  if (command.status === 'succeeded') {
    if (result.newCredentialWorks === true && result.oldCredentialFails === true) {
      return { verdict: 'proven', lockedOut: false };
    }
    const summary = typeof result.summary === 'string' ? result.summary : '';
    return {
      verdict: 'unknown',
      lockedOut,
      problem: {
        code: 'rotation-unverified',
        message: clip(
          `The change was not proven${summary === '' ? '' : ` (${summary})`}; both passwords are tested next.`,
        ),
      },
    };
  }
  if (
    (command.status === 'expired' || command.status === 'cancelled') &&
    command.dispatchCount === 0
  ) {
    return { verdict: 'unchanged', lockedOut, problem: problemOf(command, NEVER_SENT) };
  }
  const fallback = {
    code: command.status,
    message: `The command ended ${command.status} with no result.`,
  };
  if (command.status === 'failed') {
    const neverRan =
      error.outcome === 'refused' ||
      (error.outcome === undefined && UNSENT_CODES.has(code) && command.dispatchCount <= 1) ||
      result.passwordChanged === false ||
      BEFORE_CHANGE_CODES.has(code);
    if (neverRan) return { verdict: 'unchanged', lockedOut, problem: problemOf(command, fallback) };
  }
  const retryAfterMs = retryAfterOf(result);
  return {
    verdict: 'unknown',
    lockedOut,
    problem: problemOf(command, fallback),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

const CheckEntrySchema = z.object({ ref: z.string(), outcome: z.string() });

/**
 * Reads the result of the test-credential command that settles an unknown change: `next` and
 * `previous` are the references it gave the new (pending) and the old (active) version.
 */
export function interpretCheckResult(
  command: RotationCommandOutcome,
  refs: { next: string; previous: string },
): CheckVerdict {
  const result = recordOf(command.result);
  const error = recordOf(command.error);
  const entries = Array.isArray(result.credentials)
    ? result.credentials.flatMap((entry) => {
        const parsed = CheckEntrySchema.safeParse(entry);
        return parsed.success ? [parsed.data] : [];
      })
    : [];
  const outcomeOf = (ref: string) => entries.find((entry) => entry.ref === ref)?.outcome;
  const next = outcomeOf(refs.next);
  const previous = outcomeOf(refs.previous);
  const lockedOut =
    error.code === 'locked-out' ||
    result.stopped === 'locked-out' ||
    next === 'locked-out' ||
    previous === 'locked-out';
  if (command.status === 'succeeded') {
    if (next === 'works') return { verdict: 'new-works', lockedOut };
    if (next === 'rejected' && previous === 'works') return { verdict: 'old-works', lockedOut };
    if (next === 'rejected' && previous === 'rejected') return { verdict: 'neither', lockedOut };
  }
  const retryAfterMs = retryAfterOf(result);
  const untried = typeof result.summary === 'string' ? result.summary : '';
  return {
    verdict: 'unknown',
    lockedOut,
    problem:
      command.status === 'succeeded'
        ? {
            code: lockedOut ? 'locked-out' : 'not-tested',
            message: clip(
              `Both passwords could not be tested yet${untried === '' ? '' : ` (${untried})`}; they are tested again later.`,
            ),
          }
        : problemOf(command, {
            code: command.status,
            message: `The check ended ${command.status} with no result; it is tried again later.`,
          }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

export type RotationItemEvent =
  | { type: 'change-queued' }
  | { type: 'change-finished'; verdict: ChangeVerdict }
  | { type: 'check-finished'; verdict: CheckVerdict }
  | { type: 'skipped'; reason: RotationSkipReason }
  | { type: 'retried' };

/** What one event does to a camera's rotation. */
export interface RotationItemStep {
  status: RotationItemStatus;
  /**
   * The pending vault version: made active (the camera holds it), discarded (proven not to), or
   * kept (the camera may hold it).
   */
  pending: 'activate' | 'discard' | 'keep';
  /** Test both versions: now (the outcome just became unknown), later (still unknown), or not. */
  check: 'now' | 'later' | 'none';
  error: RotationProblem | null;
}

const NO_WORKING_PASSWORD: RotationProblem = {
  code: 'no-working-password',
  message:
    'The camera accepts neither the vaulted password nor the new one: its password was changed outside Custody. Both versions are kept; open a recommissioning case for it.',
};
const CHANGE_DID_NOT_TAKE: RotationProblem = {
  code: 'change-not-taken',
  message: 'The camera still accepts the old password and rejects the new one: nothing changed.',
};

function refuse(status: RotationItemStatus, event: RotationItemEvent): never {
  throw new DomainError(
    'invalid-transition',
    `A rotation item in "${status}" does not take "${event.type}".`,
    { details: { from: status, event: event.type } },
  );
}

/**
 * The per-camera state machine:
 *
 *   queued ─change-queued→ changing ─proven→ rotated (activate)
 *                                   ─unchanged→ failed (discard)
 *                                   ─unknown→ checking ─new works→ rotated (activate)
 *                                                      ─old works→ failed (discard)
 *                                                      ─neither→ failed (keep both)
 *                                                      ─unknown→ checking (keep, test later)
 *   queued ─skipped→ skipped;  failed ─retried→ queued
 *
 * A pending version is discarded only on proof that the camera does not hold it.
 */
export function nextRotationItemStep(
  status: RotationItemStatus,
  event: RotationItemEvent,
): RotationItemStep {
  switch (event.type) {
    case 'change-queued':
      if (status !== 'queued') refuse(status, event);
      return { status: 'changing', pending: 'keep', check: 'none', error: null };
    case 'change-finished': {
      if (status !== 'changing') refuse(status, event);
      const { verdict } = event;
      switch (verdict.verdict) {
        case 'proven':
          return { status: 'rotated', pending: 'activate', check: 'none', error: null };
        case 'unchanged':
          return { status: 'failed', pending: 'discard', check: 'none', error: verdict.problem };
        case 'unknown':
          return { status: 'checking', pending: 'keep', check: 'now', error: verdict.problem };
      }
      break;
    }
    case 'check-finished': {
      if (status !== 'checking') refuse(status, event);
      const { verdict } = event;
      switch (verdict.verdict) {
        case 'new-works':
          return { status: 'rotated', pending: 'activate', check: 'none', error: null };
        case 'old-works':
          return {
            status: 'failed',
            pending: 'discard',
            check: 'none',
            error: CHANGE_DID_NOT_TAKE,
          };
        case 'neither':
          return { status: 'failed', pending: 'keep', check: 'none', error: NO_WORKING_PASSWORD };
        case 'unknown':
          return { status: 'checking', pending: 'keep', check: 'later', error: verdict.problem };
      }
      break;
    }
    case 'skipped':
      if (status !== 'queued') refuse(status, event);
      return {
        status: 'skipped',
        pending: 'keep',
        check: 'none',
        error: { code: event.reason, message: ROTATION_SKIP_LABELS[event.reason] },
      };
    case 'retried':
      if (status !== 'failed') refuse(status, event);
      return { status: 'queued', pending: 'keep', check: 'none', error: null };
  }
  return refuse(status, event);
}

/**
 * Base and ceiling of the wait before an unknown outcome is tested again (the first test goes out
 * at once). Short at first, because the camera's wave waits for it; doubling, because a camera
 * that is off or locked should not be asked every few seconds: 5 s, 10 s, 20 s, … 10 min.
 */
export const ROTATION_RECHECK = { baseMs: 5_000, maxMs: 10 * 60_000 } as const;

/**
 * How long to wait before testing an unknown outcome again, after `checks` tests: doubling from
 * `baseMs` up to `maxMs`, and never before the camera's own retry-after (budget or lockout).
 */
export function recheckDelayMs(
  checks: number,
  options: { baseMs?: number; maxMs?: number; retryAfterMs?: number | undefined } = {},
): number {
  const base = options.baseMs ?? ROTATION_RECHECK.baseMs;
  const max = options.maxMs ?? ROTATION_RECHECK.maxMs;
  const backoff = Math.min(max, base * 2 ** Math.max(0, Math.min(30, checks - 1)));
  return Math.max(backoff, options.retryAfterMs ?? 0);
}

export type RotationStatusCounts = Partial<Record<RotationItemStatus, number>>;

export interface RotationWaveTally {
  wave: number;
  counts: RotationStatusCounts;
}

export type RotationJobStep =
  /** Queue the wave's queued items as capacity allows (there may be none left to queue). */
  | { kind: 'work'; wave: number }
  /** The wave is done with more failures than allowed: no later wave starts. */
  | { kind: 'stop'; wave: number; reason: string }
  /** Nothing is queued anywhere; items still in flight elsewhere are waited for. */
  | { kind: 'wait' }
  /** Every item is rotated, failed or skipped. */
  | { kind: 'complete' };

function countOf(counts: RotationStatusCounts, statuses: readonly RotationItemStatus[]): number {
  return statuses.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
}

export function waveLabel(wave: number): string {
  return wave === 0 ? 'canary' : `wave ${wave}`;
}

/**
 * What a running job does next. A wave is done when none of its items is queued or in flight;
 * then more than `maxFailures` failures in it stop the job if a later wave is waiting, and
 * otherwise the next wave (the lowest one with queued items) starts.
 */
export function decideRotationStep(input: {
  currentWave: number;
  maxFailures: number;
  waves: readonly RotationWaveTally[];
}): RotationJobStep {
  const current = input.waves.find((tally) => tally.wave === input.currentWave);
  if (current !== undefined && countOf(current.counts, ROTATION_OPEN_STATUSES) > 0) {
    return { kind: 'work', wave: input.currentWave };
  }
  const next = input.waves
    .filter((tally) => tally.wave !== input.currentWave && (tally.counts.queued ?? 0) > 0)
    .map((tally) => tally.wave)
    .sort((a, b) => a - b)[0];
  if (next === undefined) {
    const inFlight = input.waves.some(
      (tally) => countOf(tally.counts, ROTATION_IN_FLIGHT_STATUSES) > 0,
    );
    return inFlight ? { kind: 'wait' } : { kind: 'complete' };
  }
  const failed = current?.counts.failed ?? 0;
  if (current !== undefined && failed > input.maxFailures) {
    const total = countOf(current.counts, ROTATION_ITEM_STATUSES);
    return {
      kind: 'stop',
      wave: input.currentWave,
      reason: `${waveLabel(input.currentWave)}: ${failed} of ${total} failed (at most ${input.maxFailures} allowed)`,
    };
  }
  return { kind: 'work', wave: next };
}
