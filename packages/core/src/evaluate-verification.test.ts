import { describe, expect, it } from 'vitest';
import { evaluateVerification } from './evaluate-verification.ts';
import { VERIFICATION_CHECK_KINDS } from './schemas/verification.ts';
import type {
  CheckOutcome,
  VerificationCheck,
  VerificationCheckKind,
} from './schemas/verification.ts';

const T0 = Date.UTC(2025, 5, 1, 12);

function check(kind: VerificationCheckKind, outcome: CheckOutcome, minute = 0): VerificationCheck {
  return { kind, outcome, summary: '', evidence: {}, checkedAt: new Date(T0 + minute * 60_000) };
}

const ALL_PASSED = VERIFICATION_CHECK_KINDS.map((kind) => check(kind, 'passed'));

describe('evaluateVerification', () => {
  it('passes when every check kind has passed', () => {
    expect(evaluateVerification(ALL_PASSED)).toEqual({
      isPassed: true,
      passed: [...VERIFICATION_CHECK_KINDS],
      failed: [],
      missing: [],
    });
  });

  it('fails with nothing to go on', () => {
    expect(evaluateVerification([])).toEqual({
      isPassed: false,
      passed: [],
      failed: [],
      missing: [...VERIFICATION_CHECK_KINDS],
    });
  });

  it('fails when a required check failed', () => {
    const checks = [...ALL_PASSED.slice(1), check('serial-at-planned-address', 'failed')];
    const outcome = evaluateVerification(checks);
    expect(outcome.isPassed).toBe(false);
    expect(outcome.failed).toEqual(['serial-at-planned-address']);
  });

  it('counts a skipped check as missing, because skipping proves nothing', () => {
    const checks = [
      ...ALL_PASSED.filter((c) => c.kind !== 'vms-updated'),
      check('vms-updated', 'skipped'),
    ];
    expect(evaluateVerification(checks)).toMatchObject({
      isPassed: false,
      missing: ['vms-updated'],
    });
  });

  it('lets a later re-run replace an earlier failure, but not the other way round', () => {
    const rerun = [check('snapshot-is-jpeg', 'failed', 1), check('snapshot-is-jpeg', 'passed', 2)];
    expect(evaluateVerification(rerun, ['snapshot-is-jpeg']).isPassed).toBe(true);
    const regressed = [
      check('snapshot-is-jpeg', 'passed', 2),
      check('snapshot-is-jpeg', 'failed', 1),
    ];
    expect(evaluateVerification(regressed, ['snapshot-is-jpeg']).isPassed).toBe(true);
    const laterFailure = [
      check('snapshot-is-jpeg', 'passed', 1),
      check('snapshot-is-jpeg', 'failed', 2),
    ];
    expect(evaluateVerification(laterFailure, ['snapshot-is-jpeg'])).toMatchObject({
      isPassed: false,
      failed: ['snapshot-is-jpeg'],
    });
  });

  it('takes the last reported check when two carry the same time', () => {
    const tie = [check('rtsp-describe', 'failed', 1), check('rtsp-describe', 'passed', 1)];
    expect(evaluateVerification(tie, ['rtsp-describe']).passed).toEqual(['rtsp-describe']);
  });

  it('only judges the required kinds, in the order they are required', () => {
    const checks = [check('recording-present', 'failed'), check('new-credentials-work', 'passed')];
    expect(
      evaluateVerification(checks, ['new-credentials-work', 'old-credentials-rejected']),
    ).toEqual({
      isPassed: false,
      passed: ['new-credentials-work'],
      failed: [],
      missing: ['old-credentials-rejected'],
    });
  });
});
