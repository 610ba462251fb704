import { DomainError } from './domain-error.ts';
import { err, ok } from './result.ts';
import type { Result } from './result.ts';
import { parseSerial } from './serial.ts';
import type { ApprovalDecision, ApprovalRequest, ExecutableGrant } from './schemas/approval.ts';
import { hasRole } from './schemas/membership.ts';
import type { Membership } from './schemas/membership.ts';
import { DEFAULT_APPROVAL_QUORUM } from './schemas/site.ts';
import type { Site } from './schemas/site.ts';

/** An unanswered request lapses after a day: the situation on site may have changed since. */
export const DEFAULT_APPROVAL_REQUEST_TTL_MS = 24 * 60 * 60 * 1000;
/** A met quorum must be acted on promptly; a stale grant is re-requested, not stretched. */
export const DEFAULT_GRANT_TTL_MS = 15 * 60 * 1000;

export interface ApprovalPolicyOptions {
  requestTtlMs?: number;
  grantTtlMs?: number;
}

export const APPROVAL_REFUSAL_CODES = [
  'reason-required',
  'request-expired',
  'wrong-request',
  'invalid-decision',
  'self-approval',
  'not-an-approver',
  'already-decided',
  'not-approved',
  'denied',
  'expired',
  'used',
  'scope-mismatch',
] as const;
export type ApprovalRefusalCode = (typeof APPROVAL_REFUSAL_CODES)[number];

export interface ApprovalRefusal {
  code: ApprovalRefusalCode;
  /** Human-readable and secret-free; safe to show to the person who was refused. */
  reason: string;
}

export type ApprovalSite = Pick<Site, 'id' | 'ownerOrgId'> & { approvalQuorum?: number };

function refusal(code: ApprovalRefusalCode, reason: string): { ok: false; error: ApprovalRefusal } {
  return err({ code, reason });
}

function requestExpiresAt(request: ApprovalRequest, options: ApprovalPolicyOptions): Date {
  const ttl = options.requestTtlMs ?? DEFAULT_APPROVAL_REQUEST_TTL_MS;
  return new Date(request.requestedAt.getTime() + ttl);
}

/** A request is decidable while it has a reason and has not lapsed. */
export function checkApprovalRequest(
  request: ApprovalRequest,
  now: Date,
  options: ApprovalPolicyOptions = {},
): Result<ApprovalRequest, ApprovalRefusal> {
  if (request.reason.trim() === '') {
    return refusal('reason-required', 'A reset request must say why the reset is needed.');
  }
  if (now.getTime() >= requestExpiresAt(request, options).getTime()) {
    return refusal('request-expired', 'The request expired before it was decided; request again.');
  }
  return ok(request);
}

export interface ApprovalDecisionContext {
  request: ApprovalRequest;
  site: ApprovalSite;
  memberships: readonly Membership[];
  options?: ApprovalPolicyOptions;
}

/**
 * Whether one decision may count: made in time, by someone other than the requester, who holds
 * owner-approver in the organisation that owns the request's site. Denials are held to the same
 * rules so a stranger cannot veto either.
 */
export function checkApprovalDecision(
  decision: ApprovalDecision,
  context: ApprovalDecisionContext,
): Result<ApprovalDecision, ApprovalRefusal> {
  const { request, site, memberships } = context;
  if (decision.requestId !== request.id) {
    return refusal('wrong-request', 'The decision refers to a different request.');
  }
  if (request.siteId !== site.id) {
    return refusal('scope-mismatch', "The request is for a different site than the approver's.");
  }
  if (decision.decidedAt.getTime() < request.requestedAt.getTime()) {
    return refusal('invalid-decision', 'The decision is dated before the request was made.');
  }
  const requestCheck = checkApprovalRequest(request, decision.decidedAt, context.options);
  if (!requestCheck.ok) return requestCheck;
  if (decision.approverId === request.requestedBy) {
    return refusal('self-approval', 'The person who requested a reset cannot decide on it.');
  }
  if (
    !hasRole(memberships, {
      userId: decision.approverId,
      orgId: site.ownerOrgId,
      role: 'owner-approver',
    })
  ) {
    return refusal(
      'not-an-approver',
      "Only an owner approver of the organisation that owns the camera's site can decide.",
    );
  }
  return ok(decision);
}

export interface IgnoredDecision {
  decision: ApprovalDecision;
  refusal: ApprovalRefusal;
}

export type ApprovalEvaluation = { ignored: IgnoredDecision[] } & (
  | { status: 'pending'; approvedBy: string[]; quorum: number; expiresAt: Date }
  | { status: 'approved'; grant: ExecutableGrant }
  | { status: 'denied'; deniedBy: string; comment: string }
  | { status: 'expired'; expiredAt: Date }
  | { status: 'refused'; refusal: ApprovalRefusal }
);

export interface EvaluateApprovalInput extends ApprovalDecisionContext {
  decisions: readonly ApprovalDecision[];
  now: Date;
}

/**
 * Folds the decisions on a request into its status. Decisions count in time order and the first
 * outcome wins: a valid denial before quorum denies; the decision that completes a quorum of
 * distinct approvers issues the grant, and later decisions are ignored (cancelling the case is how
 * an owner withdraws). Invalid decisions are reported in `ignored`, never silently dropped.
 */
export function evaluateApproval(input: EvaluateApprovalInput): ApprovalEvaluation {
  const { request, site, now } = input;
  const options = input.options ?? {};
  const quorum = site.approvalQuorum ?? DEFAULT_APPROVAL_QUORUM;
  const ignored: IgnoredDecision[] = [];

  if (request.reason.trim() === '') {
    return {
      status: 'refused',
      refusal: {
        code: 'reason-required',
        reason: 'A reset request must say why the reset is needed.',
      },
      ignored,
    };
  }

  const ordered = input.decisions
    .filter((d) => d.decidedAt.getTime() <= now.getTime())
    .toSorted((a, b) => a.decidedAt.getTime() - b.decidedAt.getTime());
  for (const future of input.decisions.filter((d) => d.decidedAt.getTime() > now.getTime())) {
    ignored.push({
      decision: future,
      refusal: { code: 'invalid-decision', reason: 'The decision is dated in the future.' },
    });
  }

  const approvedBy: string[] = [];
  const decided = new Set<string>();
  let outcome: ApprovalEvaluation | undefined;

  for (const decision of ordered) {
    if (outcome !== undefined) {
      ignored.push({
        decision,
        refusal: { code: 'already-decided', reason: 'The request had already been decided.' },
      });
      continue;
    }
    const check = checkApprovalDecision(decision, input);
    if (!check.ok) {
      ignored.push({ decision, refusal: check.error });
      continue;
    }
    if (decided.has(decision.approverId)) {
      ignored.push({
        decision,
        refusal: { code: 'already-decided', reason: 'Each approver counts once.' },
      });
      continue;
    }
    decided.add(decision.approverId);
    if (decision.decision === 'deny') {
      outcome = {
        status: 'denied',
        deniedBy: decision.approverId,
        comment: decision.comment,
        ignored,
      };
      continue;
    }
    approvedBy.push(decision.approverId);
    if (approvedBy.length >= quorum) {
      const issuedAt = decision.decidedAt;
      outcome = {
        status: 'approved',
        grant: {
          requestId: request.id,
          serial: request.serial,
          verb: request.verb,
          siteId: request.siteId,
          agentId: request.agentId,
          approvedBy: [...approvedBy],
          issuedAt,
          expiresAt: new Date(issuedAt.getTime() + (options.grantTtlMs ?? DEFAULT_GRANT_TTL_MS)),
          usedAt: null,
        },
        ignored,
      };
    }
  }
  if (outcome !== undefined) return outcome;

  const expiresAt = requestExpiresAt(request, options);
  if (now.getTime() >= expiresAt.getTime()) {
    return { status: 'expired', expiredAt: expiresAt, ignored };
  }
  return { status: 'pending', approvedBy, quorum, expiresAt, ignored };
}

export interface ExecutionScope {
  serial: string;
  verb: string;
  siteId: string;
  agentId: string;
  now: Date;
}

function isSameSerial(a: string, b: string): boolean {
  const left = parseSerial(a);
  const right = parseSerial(b);
  return left.ok && right.ok && left.value === right.value;
}

function toGrant(
  source: ExecutableGrant | ApprovalEvaluation | null | undefined,
): Result<ExecutableGrant, ApprovalRefusal> {
  if (source === null || source === undefined) {
    return refusal('not-approved', 'There is no approval for this command.');
  }
  if (!('status' in source)) return ok(source);
  switch (source.status) {
    case 'approved':
      return ok(source.grant);
    case 'denied':
      return refusal('denied', 'The owner denied this request.');
    case 'expired':
      return refusal('expired', 'The request expired before it was approved.');
    case 'refused':
      return err(source.refusal);
    case 'pending':
      return refusal(
        'not-approved',
        `The request has ${source.approvedBy.length} of ${source.quorum} required approvals.`,
      );
  }
}

/**
 * The last gate before a destructive command is queued (and, with the same rules, before the agent
 * touches the camera): the grant must exist, be unused, be unexpired and match the command's
 * serial, verb, site and agent exactly. Any change of scope invalidates it.
 */
export function checkGrantExecutable(
  source: ExecutableGrant | ApprovalEvaluation | null | undefined,
  scope: ExecutionScope,
): Result<ExecutableGrant, ApprovalRefusal> {
  const resolved = toGrant(source);
  if (!resolved.ok) return resolved;
  const grant = resolved.value;

  const mismatched = [
    isSameSerial(grant.serial, scope.serial) ? null : 'serial',
    grant.verb === scope.verb ? null : 'verb',
    grant.siteId === scope.siteId ? null : 'site',
    grant.agentId === scope.agentId ? null : 'agent',
  ].filter((field) => field !== null);
  if (mismatched.length > 0) {
    return refusal(
      'scope-mismatch',
      `The approval does not cover this command: different ${mismatched.join(', ')}.`,
    );
  }
  if (grant.usedAt !== null) {
    return refusal('used', 'The approval has already been used; each approval runs one command.');
  }
  if (scope.now.getTime() < grant.issuedAt.getTime()) {
    return refusal('not-approved', 'The approval is not valid yet; check the clocks.');
  }
  if (scope.now.getTime() >= grant.expiresAt.getTime()) {
    return refusal('expired', 'The approval expired before the command ran; request again.');
  }
  return ok(grant);
}

/** Checks and consumes in one step; persisting `usedAt` must be atomic with queuing the command. */
export function useGrant(
  source: ExecutableGrant | ApprovalEvaluation | null | undefined,
  scope: ExecutionScope,
): Result<ExecutableGrant, ApprovalRefusal> {
  const check = checkGrantExecutable(source, scope);
  if (!check.ok) return check;
  return ok({ ...check.value, usedAt: scope.now });
}

export function createApprovalRefusalError(refusal: ApprovalRefusal, cause?: unknown): DomainError {
  return new DomainError('approval-refused', refusal.reason, {
    cause,
    details: { refusal: refusal.code },
  });
}
