import { describe, expect, it } from 'vitest';
import {
  AUDIT_FINDINGS,
  AUDIT_FINDING_DESCRIPTIONS,
  DEFAULT_FLEET_AUDIT_SETTINGS,
  FleetAuditSettingsSchema,
  evaluateCameraAudit,
  isUnverifiedAfterReset,
  staleCutoff,
  type CameraAuditFacts,
} from './fleet-audit.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
const RULES = { firmwareFloor: '10.12', staleAfterDays: 30, now: NOW };

/** A camera with nothing to report. */
const CLEAN: CameraAuditFacts = {
  hasOwnerRecord: true,
  hasDocumentedCredential: true,
  lastResetAt: null,
  lastVerifiedAt: null,
  lastSeenAt: new Date(NOW.getTime() - DAY),
  inVms: true,
  firmware: '11.11.73',
  duplicateSightings: 0,
  accessState: 'authenticated',
};

describe('evaluateCameraAudit', () => {
  it('finds nothing on a documented, verified, recently seen camera', () => {
    expect(evaluateCameraAudit(CLEAN, RULES)).toEqual([]);
  });

  it('reports each finding from the fact it rests on', () => {
    const cases: [Partial<CameraAuditFacts>, string][] = [
      [{ hasOwnerRecord: false }, 'no-owner-record'],
      [{ hasDocumentedCredential: false }, 'no-documented-credential'],
      [{ lastResetAt: new Date(NOW.getTime() - 2 * DAY) }, 'unverified-after-reset'],
      [{ lastSeenAt: new Date(NOW.getTime() - 31 * DAY) }, 'not-seen'],
      [{ inVms: false }, 'not-in-vms'],
      [{ firmware: '9.80.3' }, 'firmware-below-floor'],
      [{ duplicateSightings: 2 }, 'duplicate-serial'],
      [{ accessState: 'needs-setup' }, 'factory-default'],
    ];
    for (const [facts, finding] of cases) {
      expect(evaluateCameraAudit({ ...CLEAN, ...facts }, RULES)).toEqual([finding]);
    }
    expect(cases.map(([, finding]) => finding)).toEqual(AUDIT_FINDINGS);
  });

  it('lists several findings in the canonical order', () => {
    const findings = evaluateCameraAudit(
      { ...CLEAN, accessState: 'needs-setup', hasOwnerRecord: false, inVms: false },
      RULES,
    );
    expect(findings).toEqual(['no-owner-record', 'not-in-vms', 'factory-default']);
  });

  it('counts a camera seen exactly at the cutoff as seen', () => {
    const cutoff = staleCutoff(RULES);
    expect(cutoff.toISOString()).toBe('2025-05-02T12:00:00.000Z');
    expect(evaluateCameraAudit({ ...CLEAN, lastSeenAt: cutoff }, RULES)).toEqual([]);
    expect(
      evaluateCameraAudit({ ...CLEAN, lastSeenAt: new Date(cutoff.getTime() - 1) }, RULES),
    ).toEqual(['not-seen']);
  });

  it('has no firmware finding without a floor, or for a camera whose firmware is unknown', () => {
    expect(
      evaluateCameraAudit({ ...CLEAN, firmware: '6.50' }, { ...RULES, firmwareFloor: null }),
    ).toEqual([]);
    expect(evaluateCameraAudit({ ...CLEAN, firmware: null }, RULES)).toEqual([]);
  });
});

describe('isUnverifiedAfterReset', () => {
  const reset = new Date('2025-05-10T10:00:00Z');
  it('wants a passed verification at or after the latest reset', () => {
    expect(isUnverifiedAfterReset(null, null)).toBe(false);
    expect(isUnverifiedAfterReset(reset, null)).toBe(true);
    expect(isUnverifiedAfterReset(reset, new Date(reset.getTime() - 1))).toBe(true);
    expect(isUnverifiedAfterReset(reset, reset)).toBe(false);
    expect(isUnverifiedAfterReset(reset, new Date(reset.getTime() + 60_000))).toBe(false);
  });
});

describe('FleetAuditSettingsSchema', () => {
  it('defaults to no floor, 30 days and a daily snapshot', () => {
    expect(DEFAULT_FLEET_AUDIT_SETTINGS).toEqual({
      firmwareFloor: null,
      staleAfterDays: 30,
      snapshotIntervalHours: 24,
    });
  });

  it('bounds the staleness window to 1..3650 days and refuses a malformed floor', () => {
    expect(FleetAuditSettingsSchema.safeParse({ staleAfterDays: 0 }).success).toBe(false);
    expect(FleetAuditSettingsSchema.safeParse({ staleAfterDays: 3651 }).success).toBe(false);
    expect(FleetAuditSettingsSchema.safeParse({ staleAfterDays: 1.5 }).success).toBe(false);
    expect(FleetAuditSettingsSchema.parse({ staleAfterDays: 3650 }).staleAfterDays).toBe(3650);
    expect(FleetAuditSettingsSchema.safeParse({ snapshotIntervalHours: 0 }).success).toBe(false);
    expect(FleetAuditSettingsSchema.safeParse({ firmwareFloor: 'latest' }).success).toBe(false);
    expect(FleetAuditSettingsSchema.parse({ firmwareFloor: '11.11' }).firmwareFloor).toBe('11.11');
  });
});

describe('AUDIT_FINDING_DESCRIPTIONS', () => {
  it('labels every finding and says what to do about it', () => {
    for (const finding of AUDIT_FINDINGS) {
      const description = AUDIT_FINDING_DESCRIPTIONS[finding];
      expect(description.label.length).toBeGreaterThan(3);
      expect(description.remediation.length).toBeGreaterThan(20);
    }
    const labels = AUDIT_FINDINGS.map((finding) => AUDIT_FINDING_DESCRIPTIONS[finding].label);
    expect(new Set(labels).size).toBe(labels.length);
  });
});
