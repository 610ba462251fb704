import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_APPROVAL_REQUEST_TTL_MS,
  DEFAULT_GRANT_TTL_MS,
  checkApprovalDecision,
  checkApprovalRequest,
  checkGrantExecutable,
  createApprovalRefusalError,
  evaluateApproval,
  useGrant,
} from './approval-policy.ts';
import type { ApprovalEvaluation, ApprovalSite, ExecutionScope } from './approval-policy.ts';
import { COMMAND_VERBS } from './command-verb.ts';
import { isDomainError } from './domain-error.ts';
import type { ApprovalDecision, ApprovalRequest, ExecutableGrant } from './schemas/approval.ts';
import type { Membership } from './schemas/membership.ts';

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

const OWNER_ORG = id(1);
const OTHER_OWNER_ORG = id(2);
const SITE = id(10);
const OTHER_SITE = id(11);
const AGENT = id(20);
const OTHER_AGENT = id(21);
const REQUEST = id(30);
const REQUESTER = id(100);
const APPROVER_1 = id(101);
const APPROVER_2 = id(102);
const APPROVER_3 = id(103);
const TECHNICIAN = id(104);
const OUTSIDER = id(105);
const AUDITOR = id(106);

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const T0 = new Date('2025-06-01T08:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const MEMBERSHIPS: Membership[] = [
  // The requester is an owner approver too, so self-approval is refused for that reason alone.
  { userId: REQUESTER, orgId: OWNER_ORG, role: 'owner-approver' },
  { userId: APPROVER_1, orgId: OWNER_ORG, role: 'owner-approver' },
  { userId: APPROVER_2, orgId: OWNER_ORG, role: 'owner-approver' },
  { userId: APPROVER_3, orgId: OWNER_ORG, role: 'owner-approver' },
  { userId: TECHNICIAN, orgId: OWNER_ORG, role: 'technician' },
  { userId: TECHNICIAN, orgId: OTHER_OWNER_ORG, role: 'owner-approver' },
  { userId: OUTSIDER, orgId: OTHER_OWNER_ORG, role: 'owner-approver' },
  { userId: AUDITOR, orgId: OWNER_ORG, role: 'auditor' },
  { userId: AUDITOR, orgId: OWNER_ORG, role: 'integrator-admin' },
];

const REQUEST_FIXTURE: ApprovalRequest = {
  id: REQUEST,
  serial: 'ACCC8E012345',
  verb: 'factory-default-hard',
  siteId: SITE,
  agentId: AGENT,
  requestedBy: REQUESTER,
  requestedAt: T0,
  reason: 'Inherited camera; no known admin password works.',
};

const SITE_FIXTURE: ApprovalSite = { id: SITE, ownerOrgId: OWNER_ORG, approvalQuorum: 1 };

function decision(
  approverId: string,
  decidedAt: Date,
  kind: ApprovalDecision['decision'] = 'approve',
  comment = '',
): ApprovalDecision {
  return { requestId: REQUEST, approverId, decision: kind, decidedAt, comment };
}

function evaluate(
  decisions: ApprovalDecision[],
  overrides: Partial<Parameters<typeof evaluateApproval>[0]> = {},
): ApprovalEvaluation {
  return evaluateApproval({
    request: REQUEST_FIXTURE,
    site: SITE_FIXTURE,
    memberships: MEMBERSHIPS,
    decisions,
    now: at(HOUR),
    ...overrides,
  });
}

function grantOf(evaluation: ApprovalEvaluation): ExecutableGrant {
  if (evaluation.status !== 'approved')
    throw new Error(`Expected approval, got ${evaluation.status}`);
  return evaluation.grant;
}

const GRANT = grantOf(evaluate([decision(APPROVER_1, at(10 * MINUTE))]));

function scope(overrides: Partial<ExecutionScope> = {}): ExecutionScope {
  return {
    serial: 'ACCC8E012345',
    verb: 'factory-default-hard',
    siteId: SITE,
    agentId: AGENT,
    now: at(12 * MINUTE),
    ...overrides,
  };
}

describe('policy defaults', () => {
  it('lets a request wait 24 hours and a grant 15 minutes', () => {
    expect(DEFAULT_APPROVAL_REQUEST_TTL_MS).toBe(24 * HOUR);
    expect(DEFAULT_GRANT_TTL_MS).toBe(15 * MINUTE);
  });
});

describe('checkApprovalRequest', () => {
  it('accepts a request with a reason until it is 24 hours old', () => {
    expect(checkApprovalRequest(REQUEST_FIXTURE, at(0))).toEqual({
      ok: true,
      value: REQUEST_FIXTURE,
    });
    expect(checkApprovalRequest(REQUEST_FIXTURE, at(24 * HOUR - 1)).ok).toBe(true);
    expect(checkApprovalRequest(REQUEST_FIXTURE, at(24 * HOUR))).toEqual({
      ok: false,
      error: { code: 'request-expired', reason: expect.any(String) as unknown },
    });
  });

  it('honours a configured request lifetime', () => {
    const options = { requestTtlMs: HOUR };
    expect(checkApprovalRequest(REQUEST_FIXTURE, at(HOUR - 1), options).ok).toBe(true);
    expect(checkApprovalRequest(REQUEST_FIXTURE, at(HOUR), options)).toMatchObject({
      ok: false,
      error: { code: 'request-expired' },
    });
  });

  it('refuses a request without a reason', () => {
    expect(checkApprovalRequest({ ...REQUEST_FIXTURE, reason: '  ' }, at(0))).toMatchObject({
      ok: false,
      error: { code: 'reason-required' },
    });
  });
});

describe('checkApprovalDecision', () => {
  const context = { request: REQUEST_FIXTURE, site: SITE_FIXTURE, memberships: MEMBERSHIPS };

  it('accepts an owner approver of the site’s owner organisation who did not ask', () => {
    const approval = decision(APPROVER_1, at(MINUTE));
    expect(checkApprovalDecision(approval, context)).toEqual({ ok: true, value: approval });
  });

  it.each([
    ['the requester', REQUESTER, 'self-approval'],
    ['a technician of the owner', TECHNICIAN, 'not-an-approver'],
    ['an owner approver of another organisation', OUTSIDER, 'not-an-approver'],
    ['an auditor and integrator admin of the owner', AUDITOR, 'not-an-approver'],
    ['a stranger', id(999), 'not-an-approver'],
  ])('refuses a decision by %s', (_label, approverId, code) => {
    for (const kind of ['approve', 'deny'] as const) {
      expect(checkApprovalDecision(decision(approverId, at(MINUTE), kind), context)).toMatchObject({
        ok: false,
        error: { code },
      });
    }
  });

  it('refuses a decision on another request', () => {
    const elsewhere = { ...decision(APPROVER_1, at(MINUTE)), requestId: id(31) };
    expect(checkApprovalDecision(elsewhere, context)).toMatchObject({
      ok: false,
      error: { code: 'wrong-request' },
    });
  });

  it('refuses when the request is for a site other than the one checked', () => {
    const otherSite = { ...context, site: { ...SITE_FIXTURE, id: OTHER_SITE } };
    expect(checkApprovalDecision(decision(APPROVER_1, at(MINUTE)), otherSite)).toMatchObject({
      ok: false,
      error: { code: 'scope-mismatch' },
    });
  });

  it('judges the approver against the organisation that owns the site', () => {
    const ownedByOther = { ...context, site: { ...SITE_FIXTURE, ownerOrgId: OTHER_OWNER_ORG } };
    expect(checkApprovalDecision(decision(OUTSIDER, at(MINUTE)), ownedByOther).ok).toBe(true);
    expect(checkApprovalDecision(decision(APPROVER_1, at(MINUTE)), ownedByOther)).toMatchObject({
      ok: false,
      error: { code: 'not-an-approver' },
    });
  });

  it('refuses a decision dated before the request or after it expired', () => {
    expect(checkApprovalDecision(decision(APPROVER_1, at(-1)), context)).toMatchObject({
      ok: false,
      error: { code: 'invalid-decision' },
    });
    expect(checkApprovalDecision(decision(APPROVER_1, at(24 * HOUR)), context)).toMatchObject({
      ok: false,
      error: { code: 'request-expired' },
    });
  });
});

describe('evaluateApproval', () => {
  it('issues a grant bound to the request’s serial, verb, site and agent on one approval', () => {
    const evaluation = evaluate([decision(APPROVER_1, at(10 * MINUTE))]);
    expect(evaluation).toEqual({
      status: 'approved',
      grant: {
        requestId: REQUEST,
        serial: 'ACCC8E012345',
        verb: 'factory-default-hard',
        siteId: SITE,
        agentId: AGENT,
        approvedBy: [APPROVER_1],
        issuedAt: at(10 * MINUTE),
        expiresAt: at(25 * MINUTE),
        usedAt: null,
      },
      ignored: [],
    });
  });

  it('uses a quorum of one when the site does not set one', () => {
    const site: ApprovalSite = { id: SITE, ownerOrgId: OWNER_ORG };
    expect(evaluate([decision(APPROVER_1, at(MINUTE))], { site }).status).toBe('approved');
  });

  it('waits for the site’s quorum of distinct approvers', () => {
    const site = { ...SITE_FIXTURE, approvalQuorum: 2 };
    const one = evaluate([decision(APPROVER_1, at(MINUTE))], { site });
    expect(one).toEqual({
      status: 'pending',
      approvedBy: [APPROVER_1],
      quorum: 2,
      expiresAt: at(24 * HOUR),
      ignored: [],
    });
    const twice = evaluate(
      [decision(APPROVER_1, at(MINUTE)), decision(APPROVER_1, at(2 * MINUTE))],
      {
        site,
      },
    );
    expect(twice.status).toBe('pending');
    expect(twice.ignored.map((entry) => entry.refusal.code)).toEqual(['already-decided']);
    const two = evaluate([decision(APPROVER_2, at(3 * MINUTE)), decision(APPROVER_1, at(MINUTE))], {
      site,
    });
    expect(grantOf(two).approvedBy).toEqual([APPROVER_1, APPROVER_2]);
    expect(grantOf(two).issuedAt).toEqual(at(3 * MINUTE));
  });

  it('does not count the requester or non-approvers towards the quorum, and says why', () => {
    const site = { ...SITE_FIXTURE, approvalQuorum: 2 };
    const evaluation = evaluate(
      [
        decision(REQUESTER, at(MINUTE)),
        decision(OUTSIDER, at(2 * MINUTE)),
        decision(TECHNICIAN, at(3 * MINUTE)),
        decision(APPROVER_1, at(4 * MINUTE)),
      ],
      { site },
    );
    expect(evaluation).toMatchObject({ status: 'pending', approvedBy: [APPROVER_1] });
    expect(
      evaluation.ignored.map((entry) => [entry.decision.approverId, entry.refusal.code]),
    ).toEqual([
      [REQUESTER, 'self-approval'],
      [OUTSIDER, 'not-an-approver'],
      [TECHNICIAN, 'not-an-approver'],
    ]);
  });

  it('denies on a valid denial that comes before the quorum, and ignores what follows', () => {
    const site = { ...SITE_FIXTURE, approvalQuorum: 2 };
    const evaluation = evaluate(
      [
        decision(APPROVER_1, at(MINUTE)),
        decision(APPROVER_2, at(2 * MINUTE), 'deny', 'We are keeping this camera as it is.'),
        decision(APPROVER_3, at(3 * MINUTE)),
      ],
      { site },
    );
    expect(evaluation).toMatchObject({
      status: 'denied',
      deniedBy: APPROVER_2,
      comment: 'We are keeping this camera as it is.',
    });
    expect(evaluation.ignored).toEqual([
      {
        decision: decision(APPROVER_3, at(3 * MINUTE)),
        refusal: expect.objectContaining({ code: 'already-decided' }) as unknown,
      },
    ]);
  });

  it('does not let a stranger veto', () => {
    const evaluation = evaluate([
      decision(OUTSIDER, at(MINUTE), 'deny'),
      decision(APPROVER_1, at(2 * MINUTE)),
    ]);
    expect(evaluation.status).toBe('approved');
  });

  it('ignores decisions after the quorum was met', () => {
    const evaluation = evaluate([
      decision(APPROVER_1, at(MINUTE)),
      decision(APPROVER_2, at(2 * MINUTE), 'deny'),
    ]);
    expect(grantOf(evaluation).approvedBy).toEqual([APPROVER_1]);
    expect(evaluation.ignored.map((entry) => entry.refusal.code)).toEqual(['already-decided']);
  });

  it('ignores decisions dated after now', () => {
    const evaluation = evaluate([decision(APPROVER_1, at(2 * HOUR))], { now: at(HOUR) });
    expect(evaluation.status).toBe('pending');
    expect(evaluation.ignored).toEqual([
      {
        decision: decision(APPROVER_1, at(2 * HOUR)),
        refusal: { code: 'invalid-decision', reason: 'The decision is dated in the future.' },
      },
    ]);
  });

  it('expires a request that met no quorum within 24 hours', () => {
    const evaluation = evaluate([decision(APPROVER_1, at(25 * HOUR))], { now: at(30 * HOUR) });
    expect(evaluation).toMatchObject({ status: 'expired', expiredAt: at(24 * HOUR) });
    expect(evaluation.ignored.map((entry) => entry.refusal.code)).toEqual(['request-expired']);
    expect(evaluate([], { now: at(24 * HOUR) }).status).toBe('expired');
    expect(evaluate([], { now: at(24 * HOUR - 1) }).status).toBe('pending');
  });

  it('honours configured request and grant lifetimes', () => {
    const options = { requestTtlMs: 2 * HOUR, grantTtlMs: 5 * MINUTE };
    const approved = evaluate([decision(APPROVER_1, at(HOUR))], { options, now: at(HOUR) });
    expect(grantOf(approved).expiresAt).toEqual(at(HOUR + 5 * MINUTE));
    expect(evaluate([], { options, now: at(2 * HOUR) }).status).toBe('expired');
  });

  it('refuses a request without a reason outright', () => {
    const evaluation = evaluate([decision(APPROVER_1, at(MINUTE))], {
      request: { ...REQUEST_FIXTURE, reason: '' },
    });
    expect(evaluation).toMatchObject({ status: 'refused', refusal: { code: 'reason-required' } });
  });

  it('never grants without a quorum of distinct, eligible approvers other than the requester', () => {
    const people = [REQUESTER, APPROVER_1, APPROVER_2, APPROVER_3, TECHNICIAN, OUTSIDER, AUDITOR];
    const eligible = new Set([APPROVER_1, APPROVER_2, APPROVER_3]);
    const decisionArbitrary = fc
      .record({
        approverId: fc.constantFrom(...people),
        offset: fc.integer({ min: -HOUR, max: 30 * HOUR }),
        kind: fc.constantFrom<ApprovalDecision['decision']>(
          'approve',
          'approve',
          'approve',
          'deny',
        ),
        otherRequest: fc.nat(9).map((n) => n === 0),
      })
      .map(({ approverId, offset, kind, otherRequest }) => ({
        ...decision(approverId, at(offset), kind),
        ...(otherRequest ? { requestId: id(31) } : {}),
      }));
    fc.assert(
      fc.property(
        fc.array(decisionArbitrary, { maxLength: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 30 * HOUR }),
        (decisions, quorum, nowOffset) => {
          const now = at(nowOffset);
          const evaluation = evaluate(decisions, {
            site: { ...SITE_FIXTURE, approvalQuorum: quorum },
            now,
          });
          const counted = decisions.length - evaluation.ignored.length;
          if (evaluation.status === 'approved') {
            const { grant } = evaluation;
            expect(grant.approvedBy).toHaveLength(quorum);
            expect(new Set(grant.approvedBy).size).toBe(quorum);
            for (const approver of grant.approvedBy) expect(eligible.has(approver)).toBe(true);
            expect(grant).toMatchObject({
              requestId: REQUEST,
              serial: REQUEST_FIXTURE.serial,
              verb: REQUEST_FIXTURE.verb,
              siteId: SITE,
              agentId: AGENT,
              usedAt: null,
            });
            expect(grant.issuedAt.getTime()).toBeLessThanOrEqual(now.getTime());
            expect(grant.issuedAt.getTime()).toBeLessThan(at(24 * HOUR).getTime());
            expect(grant.expiresAt.getTime() - grant.issuedAt.getTime()).toBe(DEFAULT_GRANT_TTL_MS);
            expect(counted).toBe(quorum);
          } else if (evaluation.status === 'denied') {
            expect(eligible.has(evaluation.deniedBy)).toBe(true);
            expect(counted).toBeLessThanOrEqual(quorum);
          } else if (evaluation.status === 'pending') {
            expect(evaluation.approvedBy.length).toBeLessThan(quorum);
            expect(counted).toBe(evaluation.approvedBy.length);
            expect(now.getTime()).toBeLessThan(at(24 * HOUR).getTime());
          } else {
            expect(evaluation.status).toBe('expired');
            expect(now.getTime()).toBeGreaterThanOrEqual(at(24 * HOUR).getTime());
          }
        },
      ),
    );
  });
});

describe('checkGrantExecutable', () => {
  it('accepts an unused grant for exactly its scope before it expires', () => {
    expect(checkGrantExecutable(GRANT, scope())).toEqual({ ok: true, value: GRANT });
    expect(checkGrantExecutable(GRANT, scope({ now: GRANT.issuedAt })).ok).toBe(true);
    expect(checkGrantExecutable(GRANT, scope({ now: at(25 * MINUTE - 1) })).ok).toBe(true);
  });

  it('accepts the serial in any spelling', () => {
    expect(checkGrantExecutable(GRANT, scope({ serial: 'ac:cc:8e:01:23:45' })).ok).toBe(true);
  });

  it.each<[string, Partial<ExecutionScope>, string]>([
    ['serial', { serial: 'ACCC8E012346' }, 'serial'],
    ['an unparseable serial', { serial: 'camera-7' }, 'serial'],
    ['verb', { verb: 'factory-default-soft' }, 'verb'],
    ['site', { siteId: OTHER_SITE }, 'site'],
    ['agent', { agentId: OTHER_AGENT }, 'agent'],
  ])('refuses a command with a different %s', (_label, change, field) => {
    const result = checkGrantExecutable(GRANT, scope(change));
    expect(result).toMatchObject({ ok: false, error: { code: 'scope-mismatch' } });
    expect(!result.ok && result.error.reason).toBe(
      `The approval does not cover this command: different ${field}.`,
    );
  });

  it('lists every field that differs', () => {
    const result = checkGrantExecutable(GRANT, scope({ verb: 'restart', agentId: OTHER_AGENT }));
    expect(!result.ok && result.error.reason).toMatch(/different verb, agent\.$/);
  });

  it('refuses any change of scope whatever else is right', () => {
    const otherIds = fc.uuid().filter((value) => value !== SITE && value !== AGENT);
    const change = fc.oneof(
      fc
        .array(fc.constantFrom(...'0123456789ABCDEF'), { minLength: 12, maxLength: 12 })
        .map((digits) => ({ serial: digits.join('') }))
        .filter(({ serial }) => serial !== GRANT.serial),
      fc
        .constantFrom(...COMMAND_VERBS.filter((verb) => verb !== GRANT.verb))
        .map((verb) => ({ verb })),
      otherIds.map((siteId) => ({ siteId })),
      otherIds.map((agentId) => ({ agentId })),
    );
    fc.assert(
      fc.property(change, fc.integer({ min: 0, max: 15 * MINUTE - 1 }), (delta, elapsed) => {
        const result = checkGrantExecutable(
          GRANT,
          scope({ ...delta, now: at(10 * MINUTE + elapsed) }),
        );
        expect(result).toMatchObject({ ok: false, error: { code: 'scope-mismatch' } });
      }),
    );
  });

  it('refuses a grant that has been used', () => {
    expect(checkGrantExecutable({ ...GRANT, usedAt: at(11 * MINUTE) }, scope())).toMatchObject({
      ok: false,
      error: { code: 'used' },
    });
  });

  it('refuses a grant from 15 minutes after it was issued', () => {
    expect(checkGrantExecutable(GRANT, scope({ now: at(25 * MINUTE) }))).toMatchObject({
      ok: false,
      error: { code: 'expired' },
    });
  });

  it('refuses a grant used before it was issued', () => {
    expect(checkGrantExecutable(GRANT, scope({ now: at(9 * MINUTE) }))).toMatchObject({
      ok: false,
      error: { code: 'not-approved', reason: expect.stringMatching(/not valid yet/) as unknown },
    });
  });

  it('takes an approval evaluation and refuses anything short of approved', () => {
    expect(
      checkGrantExecutable(evaluate([decision(APPROVER_1, at(10 * MINUTE))]), scope()).ok,
    ).toBe(true);
    const site = { ...SITE_FIXTURE, approvalQuorum: 3 };
    const cases: [ApprovalEvaluation | null | undefined, string][] = [
      [null, 'not-approved'],
      [undefined, 'not-approved'],
      [evaluate([decision(APPROVER_1, at(MINUTE))], { site }), 'not-approved'],
      [evaluate([decision(APPROVER_1, at(MINUTE), 'deny')]), 'denied'],
      [evaluate([], { now: at(25 * HOUR) }), 'expired'],
      [evaluate([], { request: { ...REQUEST_FIXTURE, reason: ' ' } }), 'reason-required'],
    ];
    for (const [source, code] of cases) {
      expect(checkGrantExecutable(source, scope())).toMatchObject({ ok: false, error: { code } });
    }
    const pending = checkGrantExecutable(cases[2]![0], scope());
    expect(!pending.ok && pending.error.reason).toBe('The request has 1 of 3 required approvals.');
  });
});

describe('useGrant', () => {
  it('consumes the grant, so the same grant cannot run a second command', () => {
    const used = useGrant(GRANT, scope());
    expect(used).toEqual({ ok: true, value: { ...GRANT, usedAt: at(12 * MINUTE) } });
    expect(GRANT.usedAt).toBeNull();
    if (used.ok) {
      expect(useGrant(used.value, scope({ now: at(13 * MINUTE) }))).toMatchObject({
        ok: false,
        error: { code: 'used' },
      });
    }
  });

  it('consumes nothing when the grant does not cover the command', () => {
    expect(useGrant(GRANT, scope({ agentId: OTHER_AGENT }))).toMatchObject({
      ok: false,
      error: { code: 'scope-mismatch' },
    });
  });
});

describe('createApprovalRefusalError', () => {
  it('wraps a refusal in an approval-refused DomainError with its code and cause', () => {
    const cause = new Error('lookup');
    const error = createApprovalRefusalError({ code: 'used', reason: 'Already used.' }, cause);
    expect(isDomainError(error, 'approval-refused')).toBe(true);
    expect(error.message).toBe('Already used.');
    expect(error.details).toEqual({ refusal: 'used' });
    expect(error.cause).toBe(cause);
  });
});
