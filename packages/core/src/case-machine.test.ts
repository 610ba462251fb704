import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INITIAL_CASE_STATE,
  isTerminalCaseState,
  listAllowedCaseEvents,
  listNextActions,
  replayCaseEvents,
  transitionCase,
} from './case-machine.ts';
import { isDomainError } from './domain-error.ts';
import {
  CASE_EVENT_TYPES,
  CASE_PATHS,
  CASE_STATES,
  CaseEventSchema,
  CaseStateSchema,
  RESET_METHODS,
  TERMINAL_CASE_STATES,
} from './schemas/case-state.ts';
import type {
  CaseEvent,
  CaseEventType,
  CaseState,
  CaseStatus,
  WontResetDiagnosis,
} from './schemas/case-state.ts';

const REQUEST_A = '00000000-0000-4000-8000-00000000000a';
const REQUEST_B = '00000000-0000-4000-8000-00000000000b';
const OWNERSHIP_RECORD = '00000000-0000-4000-8000-0000000000cc';

const DIAGNOSES: WontResetDiagnosis[] = [
  { kind: 'never-came-back', cause: 'power-budget' },
  { kind: 'never-came-back', cause: 'cable' },
  { kind: 'never-came-back', cause: 'bricked' },
  { kind: 'came-back-configured', cause: 'button-timing' },
  { kind: 'came-back-configured', cause: 'faulty-button' },
];

const EVENTS = {
  triageRecommission: {
    type: 'triage-completed',
    path: 'recommission',
    resetRequired: true,
    reasons: ['No known administrator credential works.'],
  },
  triageFactoryDefault: {
    type: 'triage-completed',
    path: 'recommission',
    resetRequired: false,
    reasons: ['The camera is in factory-default state.'],
  },
  triageCleanup: {
    type: 'triage-completed',
    path: 'credential-cleanup',
    resetRequired: false,
    reasons: ['A known admin credential works.'],
  },
  ownershipRequested: { type: 'ownership-requested' },
  ownershipRecorded: { type: 'ownership-recorded', ownershipRecordId: OWNERSHIP_RECORD },
  provisioningStarted: { type: 'provisioning-started' },
  approvalRequested: { type: 'approval-requested', requestId: REQUEST_A },
  approved: { type: 'approved', requestId: REQUEST_A },
  denied: { type: 'denied', requestId: REQUEST_A, reason: 'Not our camera.' },
  resetStarted: { type: 'reset-started', method: 'software-hard' },
  buttonResetStarted: { type: 'reset-started', method: 'control-button' },
  deviceWentAway: { type: 'device-went-away' },
  deviceReturned: { type: 'device-returned' },
  neverCameBack: { type: 'reset-diagnosed', diagnosis: DIAGNOSES[0]! },
  cameBackConfigured: { type: 'reset-diagnosed', diagnosis: DIAGNOSES[3]! },
  provisioned: { type: 'provisioned' },
  verificationPassed: { type: 'verification-passed' },
  verificationFailed: { type: 'verification-failed', reason: 'No RTSP stream.' },
  documented: { type: 'documented' },
  cancelled: { type: 'cancelled', reason: 'Camera is being replaced.' },
  failed: { type: 'failed', reason: 'Agent lost the site network.' },
  retry: { type: 'retry' },
} as const satisfies Record<string, CaseEvent>;

function replayOrThrow(events: readonly CaseEvent[], initial?: CaseState): CaseState {
  const result = replayCaseEvents(events, initial);
  if (!result.ok) throw result.error;
  return result.value;
}

function statusesAlong(events: readonly CaseEvent[]): CaseStatus[] {
  const statuses: CaseStatus[] = [];
  let state = INITIAL_CASE_STATE;
  for (const event of events) {
    state = replayOrThrow([event], state);
    statuses.push(state.status);
  }
  return statuses;
}

const RECOMMISSION_WITH_RESET: CaseEvent[] = [
  EVENTS.triageRecommission,
  EVENTS.ownershipRequested,
  EVENTS.ownershipRecorded,
  EVENTS.approvalRequested,
  EVENTS.approved,
  EVENTS.resetStarted,
  EVENTS.deviceWentAway,
  EVENTS.deviceReturned,
  EVENTS.provisioned,
  EVENTS.verificationPassed,
  EVENTS.documented,
];

/** One example of every status, each reached through the machine itself. */
const SAMPLE_STATES: Record<CaseStatus, CaseState> = {
  opened: INITIAL_CASE_STATE,
  triaged: replayOrThrow([EVENTS.triageRecommission]),
  'awaiting-ownership': replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 2)),
  'awaiting-approval': replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 4)),
  approved: replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 5)),
  resetting: replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 6)),
  'awaiting-device': replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 7)),
  provisioning: replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 8)),
  verifying: replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 9)),
  verified: replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 10)),
  documented: replayOrThrow(RECOMMISSION_WITH_RESET),
  denied: replayOrThrow([...RECOMMISSION_WITH_RESET.slice(0, 4), EVENTS.denied]),
  cancelled: replayOrThrow([EVENTS.cancelled]),
  failed: replayOrThrow([EVENTS.triageRecommission, EVENTS.failed]),
  'wont-reset': replayOrThrow([...RECOMMISSION_WITH_RESET.slice(0, 7), EVENTS.neverCameBack]),
};

function sampleEventOf(type: CaseEventType): CaseEvent {
  const event = Object.values(EVENTS).find((candidate) => candidate.type === type);
  if (event === undefined) throw new Error(`No sample event of type ${type}`);
  return event;
}

describe('transitionCase', () => {
  it('takes a recommission with a reset from opened to documented', () => {
    expect(statusesAlong(RECOMMISSION_WITH_RESET)).toEqual([
      'triaged',
      'awaiting-ownership',
      'awaiting-approval',
      'awaiting-approval',
      'approved',
      'resetting',
      'awaiting-device',
      'provisioning',
      'verifying',
      'verified',
      'documented',
    ]);
    expect(replayOrThrow(RECOMMISSION_WITH_RESET)).toEqual({
      status: 'documented',
      path: 'recommission',
    });
  });

  it('records the triage path and whether a reset is needed', () => {
    expect(transitionCase(INITIAL_CASE_STATE, EVENTS.triageRecommission)).toEqual({
      ok: true,
      value: { status: 'triaged', path: 'recommission', resetRequired: true },
    });
  });

  it('never requires a reset for credential clean-up, whatever triage claimed', () => {
    const result = transitionCase(INITIAL_CASE_STATE, {
      ...EVENTS.triageCleanup,
      resetRequired: true,
    });
    expect(result).toEqual({
      ok: true,
      value: { status: 'triaged', path: 'credential-cleanup', resetRequired: false },
    });
  });

  it('takes credential clean-up straight to provisioning, without ownership or approval', () => {
    const events: CaseEvent[] = [
      EVENTS.triageCleanup,
      EVENTS.provisioningStarted,
      EVENTS.provisioned,
      EVENTS.verificationPassed,
      EVENTS.documented,
    ];
    expect(statusesAlong(events)).toEqual([
      'triaged',
      'provisioning',
      'verifying',
      'verified',
      'documented',
    ]);
    expect(replayOrThrow(events)).toEqual({ status: 'documented', path: 'credential-cleanup' });
  });

  it('refuses ownership and approval events on the clean-up path', () => {
    const triaged = replayOrThrow([EVENTS.triageCleanup]);
    for (const event of [
      EVENTS.ownershipRequested,
      EVENTS.ownershipRecorded,
      EVENTS.approvalRequested,
    ]) {
      expect(transitionCase(triaged, event)).toMatchObject({
        ok: false,
        error: { code: 'invalid-transition' },
      });
    }
  });

  it('refuses to start clean-up provisioning on the recommission path', () => {
    expect(transitionCase(SAMPLE_STATES.triaged, EVENTS.provisioningStarted).ok).toBe(false);
  });

  it('skips approval and reset for a camera already in factory default, but not ownership', () => {
    const events: CaseEvent[] = [
      EVENTS.triageFactoryDefault,
      EVENTS.ownershipRequested,
      EVENTS.ownershipRecorded,
    ];
    expect(statusesAlong(events)).toEqual(['triaged', 'awaiting-ownership', 'provisioning']);
    expect(replayOrThrow(events)).toEqual({
      status: 'provisioning',
      path: 'recommission',
      lastVerificationFailure: null,
    });
  });

  it('accepts an ownership record that already exists at triage', () => {
    expect(replayOrThrow([EVENTS.triageRecommission, EVENTS.ownershipRecorded])).toEqual({
      status: 'awaiting-approval',
      requestId: null,
    });
  });

  it('lets triage be redone before the case moves on', () => {
    expect(replayOrThrow([EVENTS.triageRecommission, EVENTS.triageCleanup])).toEqual({
      status: 'triaged',
      path: 'credential-cleanup',
      resetRequired: false,
    });
  });

  it('only takes a decision for the pending request', () => {
    const waiting = SAMPLE_STATES['awaiting-approval'];
    const result = transitionCase(waiting, { ...EVENTS.approved, requestId: REQUEST_B });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid-transition');
      expect(result.error.message).toMatch(/does not belong to the pending request/);
      expect(result.error.details).toEqual({ from: 'awaiting-approval', event: 'approved' });
    }
    expect(transitionCase(waiting, { ...EVENTS.denied, requestId: REQUEST_B }).ok).toBe(false);
  });

  it('takes no decision before an approval has been requested', () => {
    const unrequested = replayOrThrow(RECOMMISSION_WITH_RESET.slice(0, 3));
    expect(unrequested).toEqual({ status: 'awaiting-approval', requestId: null });
    expect(transitionCase(unrequested, EVENTS.approved).ok).toBe(false);
    expect(transitionCase(unrequested, EVENTS.denied).ok).toBe(false);
  });

  it('replaces the pending request when approval is requested again', () => {
    const again = transitionCase(SAMPLE_STATES['awaiting-approval'], {
      type: 'approval-requested',
      requestId: REQUEST_B,
    });
    expect(again).toEqual({
      ok: true,
      value: { status: 'awaiting-approval', requestId: REQUEST_B },
    });
    if (again.ok) expect(transitionCase(again.value, EVENTS.approved).ok).toBe(false);
  });

  it('ends the case when the owner denies the reset', () => {
    expect(SAMPLE_STATES.denied).toEqual({ status: 'denied', reason: 'Not our camera.' });
    expect(isTerminalCaseState(SAMPLE_STATES.denied)).toBe(true);
  });

  it('keeps the reset method while the device is away and returns to provisioning', () => {
    const events = [
      ...RECOMMISSION_WITH_RESET.slice(0, 5),
      EVENTS.buttonResetStarted,
      EVENTS.deviceWentAway,
    ];
    expect(replayOrThrow(events)).toEqual({ status: 'awaiting-device', method: 'control-button' });
    expect(replayOrThrow([...events, EVENTS.deviceReturned])).toMatchObject({
      status: 'provisioning',
      path: 'recommission',
    });
  });

  it('accepts a device that returns before it was seen to go away', () => {
    const resetting = SAMPLE_STATES.resetting;
    expect(transitionCase(resetting, EVENTS.deviceReturned)).toMatchObject({
      ok: true,
      value: { status: 'provisioning' },
    });
  });

  it.each(DIAGNOSES)('records the won’t-reset diagnosis %j', (diagnosis) => {
    for (const from of [SAMPLE_STATES.resetting, SAMPLE_STATES['awaiting-device']]) {
      const result = transitionCase(from, { type: 'reset-diagnosed', diagnosis });
      expect(result).toEqual({
        ok: true,
        value: { status: 'wont-reset', method: 'software-hard', diagnosis },
      });
    }
  });

  it('needs a fresh approval to retry a reset that did not take', () => {
    expect(transitionCase(SAMPLE_STATES['wont-reset'], EVENTS.retry)).toEqual({
      ok: true,
      value: { status: 'awaiting-approval', requestId: null },
    });
    expect(transitionCase(SAMPLE_STATES['wont-reset'], EVENTS.resetStarted).ok).toBe(false);
  });

  it('goes back to provisioning with the reason when verification fails', () => {
    const failedOnce = replayOrThrow([
      ...RECOMMISSION_WITH_RESET.slice(0, 9),
      EVENTS.verificationFailed,
    ]);
    expect(failedOnce).toEqual({
      status: 'provisioning',
      path: 'recommission',
      lastVerificationFailure: 'No RTSP stream.',
    });
    expect(transitionCase(failedOnce, EVENTS.provisioned)).toEqual({
      ok: true,
      value: { status: 'verifying', path: 'recommission' },
    });
  });

  it('records a failure with its reason and the state it failed from', () => {
    expect(transitionCase(SAMPLE_STATES.verifying, EVENTS.failed)).toEqual({
      ok: true,
      value: { status: 'failed', reason: 'Agent lost the site network.', failedFrom: 'verifying' },
    });
  });

  it('starts again from opened when a failed case is retried', () => {
    expect(transitionCase(SAMPLE_STATES.failed, EVENTS.retry)).toEqual({
      ok: true,
      value: { status: 'opened' },
    });
  });

  it.each(CASE_STATES.filter((status) => !isTerminalCaseState(SAMPLE_STATES[status])))(
    'can cancel a case in state %s',
    (status) => {
      expect(transitionCase(SAMPLE_STATES[status], EVENTS.cancelled)).toEqual({
        ok: true,
        value: { status: 'cancelled', reason: 'Camera is being replaced.' },
      });
    },
  );

  it.each(TERMINAL_CASE_STATES)('accepts no event at all in the terminal state %s', (status) => {
    const state = SAMPLE_STATES[status];
    expect(isTerminalCaseState(state)).toBe(true);
    expect(listAllowedCaseEvents(state)).toEqual([]);
    for (const type of CASE_EVENT_TYPES) {
      expect(transitionCase(state, sampleEventOf(type)).ok).toBe(false);
    }
  });

  it('treats failed and won’t-reset as recoverable, not terminal', () => {
    expect(isTerminalCaseState(SAMPLE_STATES.failed)).toBe(false);
    expect(isTerminalCaseState(SAMPLE_STATES['wont-reset'])).toBe(false);
    expect(isTerminalCaseState(SAMPLE_STATES.opened)).toBe(false);
  });

  it('refuses every event a state does not list, as a typed invalid-transition error', () => {
    let refusals = 0;
    for (const status of CASE_STATES) {
      const state = SAMPLE_STATES[status];
      const allowed = listAllowedCaseEvents(state);
      for (const type of CASE_EVENT_TYPES.filter((candidate) => !allowed.includes(candidate))) {
        const result = transitionCase(state, sampleEventOf(type));
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(isDomainError(result.error, 'invalid-transition')).toBe(true);
          expect(result.error.details).toEqual({ from: status, event: type });
          expect(result.error.message).toBe(
            `Cannot apply "${type}" to a case in state "${status}".`,
          );
          refusals += 1;
        }
      }
    }
    expect(refusals).toBeGreaterThan(200);
  });

  it.each([
    ['documented before verification', 'verifying', EVENTS.documented],
    ['a reset before approval', 'awaiting-approval', EVENTS.resetStarted],
    ['provisioning during a reset', 'resetting', EVENTS.provisioned],
    ['a reset from opened', 'opened', EVENTS.resetStarted],
    ['a failure of a failed case', 'failed', EVENTS.failed],
    ['a diagnosis after the device returned', 'provisioning', EVENTS.neverCameBack],
  ] as const)('refuses %s', (_label, status, event) => {
    expect(transitionCase(SAMPLE_STATES[status], event)).toMatchObject({
      ok: false,
      error: { code: 'invalid-transition', details: { from: status, event: event.type } },
    });
  });
});

describe('replayCaseEvents', () => {
  it('starts from opened unless told otherwise', () => {
    expect(replayCaseEvents([])).toEqual({ ok: true, value: INITIAL_CASE_STATE });
    expect(replayCaseEvents([EVENTS.provisioned], SAMPLE_STATES.provisioning)).toEqual({
      ok: true,
      value: { status: 'verifying', path: 'recommission' },
    });
  });

  it('names the index of the first refused event and keeps the refusal as its cause', () => {
    const result = replayCaseEvents([
      EVENTS.triageCleanup,
      EVENTS.provisioningStarted,
      EVENTS.documented,
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid-transition');
      expect(result.error.details).toEqual({ from: 'provisioning', event: 'documented', index: 2 });
      expect(result.error.message).toMatch(/^Event 2: Cannot apply "documented"/);
      expect(isDomainError(result.error.cause, 'invalid-transition')).toBe(true);
    }
  });
});

describe('listAllowedCaseEvents', () => {
  it('only allows a decision once a request is pending', () => {
    expect(listAllowedCaseEvents({ status: 'awaiting-approval', requestId: null })).not.toContain(
      'approved',
    );
    expect(listAllowedCaseEvents(SAMPLE_STATES['awaiting-approval'])).toEqual(
      expect.arrayContaining(['approved', 'denied']),
    );
  });
});

describe('listNextActions', () => {
  function actionsOf(state: CaseState): string[] {
    return listNextActions(state).map((next) => next.action);
  }

  it('names an actor and a description for every step of every open case', () => {
    for (const status of CASE_STATES) {
      const actions = listNextActions(SAMPLE_STATES[status]);
      expect(actions.length === 0).toBe(isTerminalCaseState(SAMPLE_STATES[status]));
      for (const next of actions) {
        expect(next.actors.length).toBeGreaterThan(0);
        expect(next.description.trim()).not.toBe('');
      }
    }
  });

  it.each<[string, CaseState, string[]]>([
    ['opened', { status: 'opened' }, ['triage']],
    [
      'triaged for clean-up',
      { status: 'triaged', path: 'credential-cleanup', resetRequired: false },
      ['start-credential-cleanup'],
    ],
    [
      'triaged for recommission',
      { status: 'triaged', path: 'recommission', resetRequired: true },
      ['record-ownership'],
    ],
    [
      'awaiting ownership',
      { status: 'awaiting-ownership', resetRequired: true },
      ['record-ownership', 'cancel'],
    ],
    [
      'awaiting a request',
      { status: 'awaiting-approval', requestId: null },
      ['request-approval', 'cancel'],
    ],
    [
      'awaiting a decision',
      { status: 'awaiting-approval', requestId: REQUEST_A },
      ['decide-approval', 'cancel'],
    ],
    ['approved', { status: 'approved', requestId: REQUEST_A }, ['start-reset']],
    [
      'resetting by button',
      { status: 'resetting', method: 'control-button' },
      ['perform-button-reset'],
    ],
    ['resetting by software', { status: 'resetting', method: 'software-soft' }, ['await-restart']],
    [
      'awaiting the device',
      { status: 'awaiting-device', method: 'software-soft' },
      ['watch-for-device', 'diagnose-reset'],
    ],
    [
      'provisioning a recommission',
      { status: 'provisioning', path: 'recommission', lastVerificationFailure: null },
      ['recommission-device'],
    ],
    [
      'provisioning a clean-up',
      { status: 'provisioning', path: 'credential-cleanup', lastVerificationFailure: null },
      ['rotate-credentials'],
    ],
    ['verifying', { status: 'verifying', path: 'recommission' }, ['verify']],
    ['verified', { status: 'verified', path: 'recommission' }, ['document']],
    ['failed', { status: 'failed', reason: 'x', failedFrom: 'opened' }, ['retry', 'cancel']],
  ])('asks for the right next step when %s', (_label, state, expected) => {
    expect(actionsOf(state)).toEqual(expected);
  });

  it('leaves the decision to owner approvers only', () => {
    const [decide] = listNextActions({ status: 'awaiting-approval', requestId: REQUEST_A });
    expect(decide?.actors).toEqual(['owner-approver']);
  });

  it('repeats the last verification failure while provisioning again', () => {
    const [next] = listNextActions({
      status: 'provisioning',
      path: 'credential-cleanup',
      lastVerificationFailure: 'Old password still works.',
    });
    expect(next?.description).toMatch(/The last verification failed: Old password still works\.$/);
  });

  it('explains a won’t-reset diagnosis with its cause', () => {
    const neverBack = listNextActions({
      status: 'wont-reset',
      method: 'software-hard',
      diagnosis: { kind: 'never-came-back', cause: 'power-budget' },
    });
    expect(neverBack.map((next) => next.action)).toEqual(['retry-reset', 'cancel']);
    expect(neverBack[0]?.description).toMatch(/never came back \(power-budget\)/);
    const stillConfigured = listNextActions({
      status: 'wont-reset',
      method: 'control-button',
      diagnosis: { kind: 'came-back-configured', cause: 'button-timing' },
    });
    expect(stillConfigured[0]?.description).toMatch(/still configured \(button-timing\)/);
  });

  it('quotes the failure reason of a failed case', () => {
    const [retry] = listNextActions({
      status: 'failed',
      reason: 'Switch port down',
      failedFrom: 'resetting',
    });
    expect(retry?.description).toMatch(/Switch port down/);
  });
});

describe('state machine properties', () => {
  const reasonArbitrary = fc
    .string({ minLength: 1, maxLength: 30 })
    .filter((text) => text.trim().length > 0);
  const stepArbitrary = fc.record({
    pick: fc.nat(),
    offPath: fc.nat(9).map((n) => n === 0),
    abort: fc.nat(9).map((n) => n === 0),
    type: fc.constantFrom(...CASE_EVENT_TYPES),
    path: fc.constantFrom(...CASE_PATHS),
    resetRequired: fc.boolean(),
    requestId: fc.constantFrom<string>(REQUEST_A, REQUEST_B),
    method: fc.constantFrom(...RESET_METHODS),
    diagnosis: fc.constantFrom(...DIAGNOSES),
    reason: reasonArbitrary,
  });
  type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never;

  function buildEvent(type: CaseEventType, step: Step): CaseEvent {
    switch (type) {
      case 'triage-completed':
        return { type, path: step.path, resetRequired: step.resetRequired, reasons: [step.reason] };
      case 'ownership-recorded':
        return { type, ownershipRecordId: OWNERSHIP_RECORD };
      case 'approval-requested':
      case 'approved':
        return { type, requestId: step.requestId };
      case 'denied':
        return { type, requestId: step.requestId, reason: step.reason };
      case 'reset-started':
        return { type, method: step.method };
      case 'reset-diagnosed':
        return { type, diagnosis: step.diagnosis };
      case 'verification-failed':
      case 'cancelled':
      case 'failed':
        return { type, reason: step.reason };
      case 'ownership-requested':
      case 'provisioning-started':
      case 'device-went-away':
      case 'device-returned':
      case 'provisioned':
      case 'verification-passed':
      case 'documented':
      case 'retry':
        return { type };
    }
  }

  /**
   * Mostly moves forward through allowed events, answering the pending request, so walks go deep;
   * sometimes aborts, and sometimes throws in any event at all.
   */
  function chooseEvent(state: CaseState, step: Step): CaseEvent {
    if (step.offPath) return CaseEventSchema.parse(buildEvent(step.type, step));
    const allowed = listAllowedCaseEvents(state);
    const forward = allowed.filter((type) => type !== 'cancelled' && type !== 'failed');
    const choices = step.abort || forward.length === 0 ? allowed : forward;
    const type = choices.length === 0 ? step.type : choices[step.pick % choices.length]!;
    const pending = state.status === 'awaiting-approval' ? state.requestId : null;
    const answersPending = (type === 'approved' || type === 'denied') && pending !== null;
    return CaseEventSchema.parse(
      buildEvent(type, answersPending ? { ...step, requestId: pending } : step),
    );
  }

  function walk(steps: readonly Step[]): CaseState[] {
    const states = [INITIAL_CASE_STATE];
    for (const step of steps) {
      const state = states.at(-1)!;
      const result = transitionCase(state, chooseEvent(state, step));
      if (result.ok) states.push(result.value);
    }
    return states;
  }

  it('generates walks that reach every status, so the properties cover the whole machine', () => {
    const seen = new Set<CaseStatus>();
    const walks = fc.sample(fc.array(stepArbitrary, { maxLength: 40, size: 'max' }), {
      numRuns: 200,
      seed: 7,
    });
    for (const steps of walks) for (const state of walk(steps)) seen.add(state.status);
    expect([...seen].sort()).toEqual([...CASE_STATES].sort());
  });

  it('takes every allowed event, never leaves the case-state schema, and refuses with typed errors', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 40, size: 'max' }), (steps) => {
        let state = INITIAL_CASE_STATE;
        const applied: CaseEvent[] = [];
        for (const step of steps) {
          const event = chooseEvent(state, step);
          const result = transitionCase(state, event);
          // An allowed event that answers the pending request (if any) must be taken.
          const isAllowed = listAllowedCaseEvents(state).includes(event.type);
          if (isAllowed && !step.offPath) expect(result.ok).toBe(true);
          if (result.ok) {
            expect(listAllowedCaseEvents(state)).toContain(event.type);
            expect(CaseStateSchema.parse(result.value)).toEqual(result.value);
            expect(CASE_STATES).toContain(result.value.status);
            state = result.value;
            applied.push(event);
          } else {
            expect(isDomainError(result.error, 'invalid-transition')).toBe(true);
            expect(result.error.details).toEqual({ from: state.status, event: event.type });
          }
        }
        expect(replayCaseEvents(applied)).toEqual({ ok: true, value: state });
      }),
    );
  });

  it('refuses every event outside the allowed list from any reachable state', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 30, size: 'max' }),
        stepArbitrary,
        (steps, probe) => {
          const state = walk(steps).at(-1)!;
          const event = CaseEventSchema.parse(buildEvent(probe.type, probe));
          if (!listAllowedCaseEvents(state).includes(event.type)) {
            expect(transitionCase(state, event).ok).toBe(false);
          }
          expect(listNextActions(state).length === 0).toBe(isTerminalCaseState(state));
        },
      ),
    );
  });

  it('does not modify the state it is given', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CASE_STATES), stepArbitrary, (status, step) => {
        const state = SAMPLE_STATES[status];
        const before = structuredClone(state);
        transitionCase(state, CaseEventSchema.parse(buildEvent(step.type, step)));
        expect(state).toEqual(before);
      }),
    );
  });
});
