import { VERIFICATION_CHECK_KINDS } from './schemas/verification.ts';
import type { VerificationCheck, VerificationCheckKind } from './schemas/verification.ts';

export interface VerificationOutcome {
  isPassed: boolean;
  passed: VerificationCheckKind[];
  failed: VerificationCheckKind[];
  /** Required checks never run, or only skipped: skipping proves nothing. */
  missing: VerificationCheckKind[];
}

/**
 * Decides whether the evidence proves the outcome. The latest check of each kind counts, so a
 * re-run after a fix replaces the earlier failure. `required` defaults to every check kind.
 */
export function evaluateVerification(
  checks: readonly VerificationCheck[],
  required: readonly VerificationCheckKind[] = VERIFICATION_CHECK_KINDS,
): VerificationOutcome {
  const latest = new Map<VerificationCheckKind, VerificationCheck>();
  for (const check of checks) {
    const previous = latest.get(check.kind);
    if (previous === undefined || previous.checkedAt.getTime() <= check.checkedAt.getTime()) {
      latest.set(check.kind, check);
    }
  }
  const outcome: VerificationOutcome = { isPassed: false, passed: [], failed: [], missing: [] };
  for (const kind of required) {
    const check = latest.get(kind);
    if (check === undefined || check.outcome === 'skipped') outcome.missing.push(kind);
    else if (check.outcome === 'failed') outcome.failed.push(kind);
    else outcome.passed.push(kind);
  }
  outcome.isPassed = outcome.failed.length === 0 && outcome.missing.length === 0;
  return outcome;
}
