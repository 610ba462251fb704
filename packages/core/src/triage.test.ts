import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_STATES } from './schemas/camera.ts';
import { CREDENTIAL_TEST_OUTCOMES, TriageInputSchema, triageCamera } from './triage.ts';
import type { CredentialTest, TriageInput } from './triage.ts';

const IDENTITY = { serial: 'ACCC8E012345', model: 'AXIS P3265-LVE' };

function credential(
  outcome: CredentialTest['outcome'],
  extra: Partial<CredentialTest> = {},
): CredentialTest {
  return { label: `known ${outcome}`, username: 'root', outcome, ...extra };
}

function triage(
  accessState: TriageInput['probe']['accessState'],
  credentialTests: CredentialTest[] = [],
  probe: Partial<TriageInput['probe']> = {},
) {
  return triageCamera({ probe: { accessState, identity: IDENTITY, ...probe }, credentialTests });
}

describe('triageCamera', () => {
  it('chooses credential clean-up when a known admin credential works', () => {
    const result = triage('login-failed', [
      credential('rejected', { label: 'installer default' }),
      credential('works', {
        label: "previous installer's admin",
        username: 'admin',
        isAdmin: true,
        credentialRef: 'vault://cameras/1',
      }),
    ]);
    expect(result.path).toBe('credential-cleanup');
    expect(result.resetRequired).toBe(false);
    expect(result.workingAdmin).toEqual({
      label: "previous installer's admin",
      username: 'admin',
      credentialRef: 'vault://cameras/1',
    });
    expect(result.reasons[0]).toBe(
      `Known credential "previous installer's admin" (user admin) still works with administrator rights.`,
    );
    expect(result.reasons.join(' ')).toMatch(/no reset is needed/);
  });

  it('leaves out the vault reference of a working admin that has none', () => {
    const result = triage('authenticated', [credential('works', { isAdmin: true })]);
    expect(result.workingAdmin).toEqual({ label: 'known works', username: 'root' });
    expect(result.workingAdmin).not.toHaveProperty('credentialRef');
  });

  it('prefers clean-up even when other credentials are still untested', () => {
    const result = triage('login-failed', [
      credential('not-tested'),
      credential('budget-exhausted'),
      credential('works', { isAdmin: true }),
    ]);
    expect(result.path).toBe('credential-cleanup');
  });

  it('recommissions without a reset when the camera is in factory default', () => {
    const result = triage('needs-setup', [credential('rejected')]);
    expect(result).toEqual({
      path: 'recommission',
      resetRequired: false,
      reasons: [
        'AXIS P3265-LVE (ACCC8E012345) is in factory-default state with no users, so no reset is needed.',
        'It still needs an ownership record before the first administrator is created.',
      ],
    });
  });

  it('trusts a probe that saw no users even if the access state says otherwise', () => {
    expect(triage('login-failed', [], { needsSetup: true })).toMatchObject({
      path: 'recommission',
      resetRequired: false,
    });
  });

  it('recommissions with a reset when every known credential was rejected', () => {
    const result = triage('login-failed', [
      credential('rejected', { label: 'installer default', username: 'root' }),
      credential('rejected', { label: 'old site password', username: 'admin' }),
    ]);
    expect(result.path).toBe('recommission');
    expect(result.resetRequired).toBe(true);
    expect(result.reasons).toEqual([
      'Credential "installer default" (user root) was rejected.',
      'Credential "old site password" (user admin) was rejected.',
      'No known administrator credential works; the supported way back in is a factory reset for its owner.',
    ]);
  });

  it('recommissions with a reset when the only working credentials lack admin rights', () => {
    const result = triage('login-failed', [
      credential('not-admin', { label: 'operator' }),
      credential('works', { label: 'viewer', isAdmin: false }),
    ]);
    expect(result).toMatchObject({ path: 'recommission', resetRequired: true });
    expect(result.reasons.slice(0, 2)).toEqual([
      'Credential "operator" (user root) works but has no administrator rights.',
      'Credential "viewer" (user root) works but has no administrator rights.',
    ]);
  });

  it('explains a reset for a camera with no known credentials at all', () => {
    const result = triage('login-failed');
    expect(result).toMatchObject({ path: 'recommission', resetRequired: true });
    expect(result.reasons).toEqual([
      'No known credentials are on record for AXIS P3265-LVE (ACCC8E012345); the supported way back in is a factory reset for its owner.',
    ]);
  });

  it.each([
    [
      'a credential was not tested',
      [credential('rejected'), credential('not-tested')],
      /1 known credential\(s\) have not been tested yet/,
    ],
    [
      'the test budget ran out',
      [credential('budget-exhausted'), credential('budget-exhausted')],
      /budget ran out before 2 known credential\(s\)/,
    ],
    [
      'a working credential has unknown rights',
      [credential('works', { label: 'mystery' })],
      /"mystery" \(user root\) works but its rights are unknown/,
    ],
  ])('blocks rather than proposing a reset when %s', (_label, tests, reason) => {
    const result = triage('login-failed', tests);
    expect(result.path).toBe('blocked');
    expect(result.resetRequired).toBe(false);
    expect(result.reasons.join('\n')).toMatch(reason);
    expect(result.reasons.at(-1)).toMatch(/reset is destructive/);
  });

  it('blocks an unreachable camera and says what to check', () => {
    const result = triage('unreachable', [credential('works', { isAdmin: true })]);
    expect(result).toEqual({
      path: 'blocked',
      resetRequired: false,
      reasons: [
        'AXIS P3265-LVE (ACCC8E012345) is unreachable from the agent. Check power, cabling and the network path, then probe again.',
      ],
    });
  });

  it('blocks a locked-out camera so that no further attempts extend the block', () => {
    const result = triage('locked-out', [credential('rejected')]);
    expect(result.path).toBe('blocked');
    expect(result.reasons[0]).toMatch(/blocking logins after repeated failures/);
  });

  it('describes a camera by serial alone, or generically when it is unidentified', () => {
    const bySerial = triageCamera({
      probe: { accessState: 'unreachable', identity: { serial: 'B8A44F000001' } },
    });
    expect(bySerial.reasons[0]).toMatch(/^Camera B8A44F000001 is unreachable/);
    const anonymous = triageCamera({ probe: { accessState: 'unreachable' } });
    expect(anonymous.reasons[0]).toMatch(/^This camera is unreachable/);
    const noCredentials = triageCamera({ probe: { accessState: 'login-failed' } });
    expect(noCredentials.reasons[0]).toMatch(/on record for this camera;/);
  });

  it('never chooses a reset unless every known credential was tried and none is an admin', () => {
    const testArbitrary = fc.record({
      label: fc.constantFrom('a', 'b', 'c'),
      username: fc.constantFrom('root', 'admin'),
      outcome: fc.constantFrom(...CREDENTIAL_TEST_OUTCOMES),
      isAdmin: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...ACCESS_STATES),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.array(testArbitrary, { maxLength: 6 }),
        (accessState, needsSetup, credentialTests) => {
          const result = triageCamera({ probe: { accessState, needsSetup }, credentialTests });
          expect(result.reasons.length).toBeGreaterThan(0);
          for (const reason of result.reasons) expect(reason.trim()).not.toBe('');
          if (result.resetRequired) {
            expect(result.path).toBe('recommission');
            expect(['unreachable', 'locked-out', 'needs-setup']).not.toContain(accessState);
            expect(needsSetup).not.toBe(true);
            for (const test of credentialTests) {
              expect(['rejected', 'not-admin', 'works']).toContain(test.outcome);
              if (test.outcome === 'works') expect(test.isAdmin).toBe(false);
            }
          }
          if (result.path === 'credential-cleanup') {
            expect(credentialTests.some((t) => t.outcome === 'works' && t.isAdmin === true)).toBe(
              true,
            );
            expect(result.workingAdmin).toBeDefined();
          } else {
            expect(result.workingAdmin).toBeUndefined();
          }
        },
      ),
    );
  });
});

describe('TriageInputSchema', () => {
  it('normalises the serial and defaults the credential tests to none', () => {
    const parsed = TriageInputSchema.parse({
      probe: { accessState: 'login-failed', identity: { serial: 'ac:cc:8e:01:23:45' } },
    });
    expect(parsed).toEqual({
      probe: { accessState: 'login-failed', identity: { serial: 'ACCC8E012345' } },
      credentialTests: [],
    });
  });

  it('rejects unknown access states and outcomes, and credential tests without a label', () => {
    expect(TriageInputSchema.safeParse({ probe: { accessState: 'offline' } }).success).toBe(false);
    expect(
      TriageInputSchema.safeParse({
        probe: { accessState: 'login-failed' },
        credentialTests: [{ label: 'x', username: 'root', outcome: 'maybe' }],
      }).success,
    ).toBe(false);
    expect(
      TriageInputSchema.safeParse({
        probe: { accessState: 'login-failed' },
        credentialTests: [{ label: '  ', username: 'root', outcome: 'works' }],
      }).success,
    ).toBe(false);
  });
});
