import { describe, expect, it } from 'vitest';
import {
  CASE_STATES,
  CaseEventSchema,
  CaseStateSchema,
  TERMINAL_CASE_STATES,
  WONT_RESET_CAUSES,
  WontResetDiagnosisSchema,
} from './case-state.ts';

const REQUEST = '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f';

describe('CaseStateSchema', () => {
  it.each([
    { status: 'opened' },
    { status: 'triaged', path: 'credential-cleanup', resetRequired: false },
    { status: 'awaiting-ownership', resetRequired: true },
    { status: 'awaiting-approval', requestId: null },
    { status: 'awaiting-approval', requestId: REQUEST },
    { status: 'approved', requestId: REQUEST },
    { status: 'resetting', method: 'control-button' },
    { status: 'awaiting-device', method: 'software-hard' },
    { status: 'provisioning', path: 'recommission', lastVerificationFailure: null },
    { status: 'verifying', path: 'recommission' },
    { status: 'verified', path: 'credential-cleanup' },
    { status: 'documented', path: 'recommission' },
    { status: 'denied', reason: 'Not ours.' },
    { status: 'cancelled', reason: 'Replaced.' },
    { status: 'failed', reason: 'Lost power.', failedFrom: 'resetting' },
    {
      status: 'wont-reset',
      method: 'control-button',
      diagnosis: { kind: 'came-back-configured', cause: 'faulty-button' },
    },
  ])('accepts %j', (state) => {
    expect(CaseStateSchema.parse(state)).toEqual(state);
  });

  it.each([
    ['an unknown status', { status: 'closed' }],
    ['a triage without a path', { status: 'triaged', resetRequired: true }],
    ['an unknown path', { status: 'triaged', path: 'replace', resetRequired: true }],
    ['an approval without its request', { status: 'approved', requestId: null }],
    ['an unknown reset method', { status: 'resetting', method: 'unplug' }],
    ['a failure without a reason', { status: 'failed', reason: ' ', failedFrom: 'opened' }],
    ['a failure from an unknown state', { status: 'failed', reason: 'x', failedFrom: 'limbo' }],
    ['a denial without a reason', { status: 'denied' }],
    [
      'a cause under the wrong observation',
      {
        status: 'wont-reset',
        method: 'software-soft',
        diagnosis: { kind: 'never-came-back', cause: 'button-timing' },
      },
    ],
  ])('rejects %s', (_label, state) => {
    expect(CaseStateSchema.safeParse(state).success).toBe(false);
  });

  it('lists documented, denied and cancelled as the only terminal states', () => {
    expect(TERMINAL_CASE_STATES).toEqual(['documented', 'denied', 'cancelled']);
    for (const status of TERMINAL_CASE_STATES) expect(CASE_STATES).toContain(status);
  });
});

describe('WontResetDiagnosisSchema', () => {
  it('pairs each cause with what was observed', () => {
    expect(WONT_RESET_CAUSES).toEqual([
      'power-budget',
      'cable',
      'bricked',
      'button-timing',
      'faulty-button',
    ]);
    for (const cause of ['power-budget', 'cable', 'bricked']) {
      expect(WontResetDiagnosisSchema.safeParse({ kind: 'never-came-back', cause }).success).toBe(
        true,
      );
      expect(
        WontResetDiagnosisSchema.safeParse({ kind: 'came-back-configured', cause }).success,
      ).toBe(false);
    }
    for (const cause of ['button-timing', 'faulty-button']) {
      expect(
        WontResetDiagnosisSchema.safeParse({ kind: 'came-back-configured', cause }).success,
      ).toBe(true);
      expect(WontResetDiagnosisSchema.safeParse({ kind: 'never-came-back', cause }).success).toBe(
        false,
      );
    }
  });
});

describe('CaseEventSchema', () => {
  it('requires triage to give its reasons', () => {
    const triage = { type: 'triage-completed', path: 'recommission', resetRequired: true };
    expect(CaseEventSchema.safeParse({ ...triage, reasons: ['No admin works.'] }).success).toBe(
      true,
    );
    expect(CaseEventSchema.safeParse({ ...triage, reasons: [] }).success).toBe(false);
    expect(CaseEventSchema.safeParse({ ...triage, reasons: ['  '] }).success).toBe(false);
  });

  it('trims reasons and requires them where a person must explain', () => {
    expect(CaseEventSchema.parse({ type: 'cancelled', reason: '  Replaced.  ' })).toEqual({
      type: 'cancelled',
      reason: 'Replaced.',
    });
    expect(CaseEventSchema.safeParse({ type: 'denied', requestId: REQUEST }).success).toBe(false);
    expect(CaseEventSchema.safeParse({ type: 'failed', reason: '' }).success).toBe(false);
    expect(
      CaseEventSchema.safeParse({ type: 'verification-failed', reason: 'x'.repeat(2001) }).success,
    ).toBe(false);
  });

  it('rejects unknown events and decisions without a request id', () => {
    expect(CaseEventSchema.safeParse({ type: 'reset-forced' }).success).toBe(false);
    expect(CaseEventSchema.safeParse({ type: 'approved' }).success).toBe(false);
  });
});
