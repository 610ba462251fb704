import { z } from 'zod';
import { SerialSchema } from './serial.ts';
import { AccessStateSchema } from './schemas/camera.ts';

export const CREDENTIAL_TEST_OUTCOMES = [
  'works',
  'rejected',
  'not-admin',
  'not-tested',
  'budget-exhausted',
] as const;
export type CredentialTestOutcome = (typeof CREDENTIAL_TEST_OUTCOMES)[number];

export const CredentialTestSchema = z.object({
  /** Vault reference of the credential tried, if it came from the vault. */
  credentialRef: z.string().min(1).optional(),
  /** How people know this credential ("previous installer's admin"); never the password. */
  label: z.string().trim().min(1).max(200),
  username: z.string().min(1).max(64),
  outcome: z.enum(CREDENTIAL_TEST_OUTCOMES),
  /** Whether the account has administrator rights; unknown when the probe could not tell. */
  isAdmin: z.boolean().optional(),
});
export type CredentialTest = z.infer<typeof CredentialTestSchema>;

export const TriageInputSchema = z.object({
  probe: z.object({
    accessState: AccessStateSchema,
    identity: z.object({ serial: SerialSchema, model: z.string().min(1).optional() }).optional(),
    /** Set when the device reports no users yet (factory default), whatever the access state. */
    needsSetup: z.boolean().optional(),
  }),
  credentialTests: z.array(CredentialTestSchema).default([]),
});
export type TriageInput = z.input<typeof TriageInputSchema>;

export const TRIAGE_PATHS = ['credential-cleanup', 'recommission', 'blocked'] as const;
export type TriagePath = (typeof TRIAGE_PATHS)[number];

export interface TriageResult {
  /** `blocked` means "do not decide yet": nothing destructive may follow from it. */
  path: TriagePath;
  resetRequired: boolean;
  reasons: string[];
  /** The credential that justifies clean-up, when there is one. */
  workingAdmin?: { label: string; username: string; credentialRef?: string };
}

function describeCamera(input: TriageInput): string {
  const identity = input.probe.identity;
  if (identity === undefined) return 'this camera';
  return identity.model === undefined
    ? `Camera ${identity.serial}`
    : `${identity.model} (${identity.serial})`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeCredential(test: CredentialTest): string {
  return `"${test.label}" (user ${test.username})`;
}

/**
 * Decides, from a probe and rationed credential tests, whether the camera needs credential
 * clean-up, a recommission (with or without a reset), or nothing yet. Recommission implies a
 * factory reset, which destroys configuration, so whenever the evidence is incomplete (untested
 * credentials, exhausted budget, unknown rights) the answer is `blocked` rather than a guess.
 */
export function triageCamera(input: TriageInput): TriageResult {
  const camera = describeCamera(input);
  const tests = input.credentialTests ?? [];
  const { accessState } = input.probe;

  if (accessState === 'unreachable') {
    return {
      path: 'blocked',
      resetRequired: false,
      reasons: [
        `${capitalize(camera)} is unreachable from the agent. Check power, cabling and the network path, then probe again.`,
      ],
    };
  }
  if (accessState === 'locked-out') {
    return {
      path: 'blocked',
      resetRequired: false,
      reasons: [
        `${capitalize(camera)} is blocking logins after repeated failures. Wait for the block to expire before testing credentials again; more attempts now only extend it.`,
      ],
    };
  }
  if (accessState === 'needs-setup' || input.probe.needsSetup === true) {
    return {
      path: 'recommission',
      resetRequired: false,
      reasons: [
        `${capitalize(camera)} is in factory-default state with no users, so no reset is needed.`,
        'It still needs an ownership record before the first administrator is created.',
      ],
    };
  }

  const workingAdmin = tests.find((t) => t.outcome === 'works' && t.isAdmin === true);
  if (workingAdmin !== undefined) {
    return {
      path: 'credential-cleanup',
      resetRequired: false,
      reasons: [
        `Known credential ${describeCredential(workingAdmin)} still works with administrator rights.`,
        'Rotate it, create the Custody service account and remove stale accounts; no reset is needed.',
      ],
      workingAdmin: {
        label: workingAdmin.label,
        username: workingAdmin.username,
        ...(workingAdmin.credentialRef === undefined
          ? {}
          : { credentialRef: workingAdmin.credentialRef }),
      },
    };
  }

  const reasons: string[] = [];
  const unknownRights = tests.filter((t) => t.outcome === 'works' && t.isAdmin === undefined);
  const untested = tests.filter((t) => t.outcome === 'not-tested');
  const exhausted = tests.filter((t) => t.outcome === 'budget-exhausted');
  for (const t of unknownRights) {
    reasons.push(
      `Credential ${describeCredential(t)} works but its rights are unknown; check whether it is an administrator.`,
    );
  }
  if (exhausted.length > 0) {
    reasons.push(
      `The credential test budget ran out before ${exhausted.length} known credential(s) could be tried; wait for the next window.`,
    );
  }
  if (untested.length > 0) {
    reasons.push(`${untested.length} known credential(s) have not been tested yet.`);
  }
  if (reasons.length > 0) {
    reasons.push(
      'A reset is destructive, so it is not proposed until every known credential is tried.',
    );
    return { path: 'blocked', resetRequired: false, reasons };
  }

  for (const t of tests) {
    if (t.outcome === 'works' || t.outcome === 'not-admin') {
      reasons.push(`Credential ${describeCredential(t)} works but has no administrator rights.`);
    } else {
      reasons.push(`Credential ${describeCredential(t)} was rejected.`);
    }
  }
  reasons.push(
    tests.length === 0
      ? `No known credentials are on record for ${camera}; the supported way back in is a factory reset for its owner.`
      : 'No known administrator credential works; the supported way back in is a factory reset for its owner.',
  );
  return { path: 'recommission', resetRequired: true, reasons };
}
