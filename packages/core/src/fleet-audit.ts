import { z } from 'zod';
import { FirmwareFloorSchema, isFirmwareBelow } from './firmware-version.ts';
import type { AccessState } from './schemas/camera.ts';

/** What the fleet documentation audit reports about a camera, in the order it lists them. */
export const AUDIT_FINDINGS = [
  'no-owner-record',
  'no-documented-credential',
  'unverified-after-reset',
  'not-seen',
  'not-in-vms',
  'firmware-below-floor',
  'duplicate-serial',
  'factory-default',
] as const;
export type AuditFinding = (typeof AUDIT_FINDINGS)[number];
export const AuditFindingSchema = z.enum(AUDIT_FINDINGS);

export interface AuditFindingDescription {
  /** A short name for tables and column headers. */
  label: string;
  /** What the finding means, in one sentence. */
  meaning: string;
  /** What to do about it. */
  remediation: string;
}

export const AUDIT_FINDING_DESCRIPTIONS: Readonly<Record<AuditFinding, AuditFindingDescription>> = {
  'no-owner-record': {
    label: 'No owner record',
    meaning: 'Nobody has recorded who legitimately owns the camera.',
    remediation:
      "Record the owner with evidence (order number, invoice or document) on the camera's ownership page.",
  },
  'no-documented-credential': {
    label: 'No documented credential',
    meaning: 'The vault holds no active administrator password for the camera.',
    remediation:
      'Vault the working administrator password through a credential clean-up, or open a recommissioning case if nobody knows it.',
  },
  'unverified-after-reset': {
    label: 'Not verified after reset',
    meaning: 'The camera was factory-reset and no verification has passed since.',
    remediation:
      "Run the case's verification: same serial at the planned address, new credentials work and old ones fail, snapshot, RTSP and recording.",
  },
  'not-seen': {
    label: 'Not seen recently',
    meaning: "No agent has reported the camera within the audit's staleness window.",
    remediation:
      "Check the camera's power and cabling and the site's agent; if the camera was removed, say so on the site.",
  },
  'not-in-vms': {
    label: 'Not in the VMS',
    meaning: 'Nothing shows the camera was added to the video management system.',
    remediation:
      "Re-add the camera to the VMS and confirm it on its case, mark it by hand, or import the VMS's camera list.",
  },
  'firmware-below-floor': {
    label: 'Firmware below floor',
    meaning: "The camera's firmware is older than the organisation's minimum version.",
    remediation: 'Upgrade the camera to a supported AXIS OS release at or above the floor.',
  },
  'duplicate-serial': {
    label: 'Duplicate serial',
    meaning: "An agent at another site reported the camera's serial too.",
    remediation:
      'Find out whether the camera moved, a MAC address is cloned or an agent scans the wrong network.',
  },
  'factory-default': {
    label: 'Factory default',
    meaning: 'The camera has no users: anyone on its network could claim it.',
    remediation:
      'Recommission it now: first administrator, service account, network plan, then verification.',
  },
};

export const DEFAULT_STALE_AFTER_DAYS = 30;
export const DEFAULT_SNAPSHOT_INTERVAL_HOURS = 24;

/** What an organisation's audit counts as a finding, and how often its trend is sampled. */
export const FleetAuditSettingsSchema = z.object({
  /** Firmware below this version is a finding; null: no floor. */
  firmwareFloor: FirmwareFloorSchema.nullable().default(null),
  staleAfterDays: z
    .int('Whole days.')
    .min(1, 'At least one day.')
    .max(3650, 'At most ten years.')
    .default(DEFAULT_STALE_AFTER_DAYS),
  snapshotIntervalHours: z
    .int('Whole hours.')
    .min(1, 'At least one hour.')
    .max(24 * 31, 'At most 31 days.')
    .default(DEFAULT_SNAPSHOT_INTERVAL_HOURS),
});
export type FleetAuditSettings = z.output<typeof FleetAuditSettingsSchema>;
export type FleetAuditSettingsInput = z.input<typeof FleetAuditSettingsSchema>;

export const DEFAULT_FLEET_AUDIT_SETTINGS: FleetAuditSettings = FleetAuditSettingsSchema.parse({});

/** What the audit knows about one camera. */
export interface CameraAuditFacts {
  /** A current (not superseded) ownership record exists. */
  hasOwnerRecord: boolean;
  /** The vault holds an active version of the camera's admin credential. */
  hasDocumentedCredential: boolean;
  /** When the latest successful factory reset finished; null if it never was reset. */
  lastResetAt: Date | null;
  /** When the latest passed verification was recorded. */
  lastVerifiedAt: Date | null;
  lastSeenAt: Date;
  /** The camera is registered in the customer's VMS. */
  inVms: boolean;
  firmware: string | null;
  /** Agents of other sites that reported the same serial. */
  duplicateSightings: number;
  accessState: AccessState | null;
}

export interface AuditRules {
  firmwareFloor: string | null;
  staleAfterDays: number;
  /** The moment the audit runs. */
  now: Date;
}

const DAY_MS = 86_400_000;

/** Cameras last seen before this moment are "not seen". */
export function staleCutoff(rules: Pick<AuditRules, 'staleAfterDays' | 'now'>): Date {
  return new Date(rules.now.getTime() - rules.staleAfterDays * DAY_MS);
}

/**
 * A reset leaves a camera unverified until a verification passes at or after it: the old
 * verification proved a configuration the reset erased.
 */
export function isUnverifiedAfterReset(
  lastResetAt: Date | null,
  lastVerifiedAt: Date | null,
): boolean {
  if (lastResetAt === null) return false;
  return lastVerifiedAt === null || lastVerifiedAt.getTime() < lastResetAt.getTime();
}

/** The findings of one camera, in AUDIT_FINDINGS order. */
export function evaluateCameraAudit(facts: CameraAuditFacts, rules: AuditRules): AuditFinding[] {
  const holds: Record<AuditFinding, boolean> = {
    'no-owner-record': !facts.hasOwnerRecord,
    'no-documented-credential': !facts.hasDocumentedCredential,
    'unverified-after-reset': isUnverifiedAfterReset(facts.lastResetAt, facts.lastVerifiedAt),
    'not-seen': facts.lastSeenAt.getTime() < staleCutoff(rules).getTime(),
    'not-in-vms': !facts.inVms,
    'firmware-below-floor': isFirmwareBelow(facts.firmware, rules.firmwareFloor),
    'duplicate-serial': facts.duplicateSightings > 0,
    'factory-default': facts.accessState === 'needs-setup',
  };
  return AUDIT_FINDINGS.filter((finding) => holds[finding]);
}

/** A count for every finding, all zero. */
export function emptyFindingCounts(): Record<AuditFinding, number> {
  return Object.fromEntries(AUDIT_FINDINGS.map((finding) => [finding, 0])) as Record<
    AuditFinding,
    number
  >;
}
