import { describe, expect, it } from 'vitest';
import * as core from './index.ts';

describe('@custody/core entry point', () => {
  it('exposes the vocabularies the database enums are built from', () => {
    expect(core.ORG_KINDS).toEqual(['integrator', 'owner']);
    expect(core.ROLES).toEqual(['integrator-admin', 'technician', 'owner-approver', 'auditor']);
    expect(core.ACCESS_STATES).toEqual([
      'authenticated',
      'needs-setup',
      'login-failed',
      'locked-out',
      'unreachable',
    ]);
    expect(core.EVIDENCE_KINDS).toEqual(['order-number', 'invoice', 'document', 'other']);
    expect(core.CREDENTIAL_ACCOUNTS).toEqual(['admin', 'service', 'vms']);
    expect(core.APPROVAL_DECISIONS).toEqual(['approve', 'deny']);
  });

  it('exposes the domain functions and schemas', () => {
    for (const name of [
      'parseSerial',
      'normalizeSerial',
      'serialToMac',
      'macToSerial',
      'hasAxisOui',
      'transitionCase',
      'replayCaseEvents',
      'listNextActions',
      'triageCamera',
      'evaluateApproval',
      'checkGrantExecutable',
      'useGrant',
      'evaluateVerification',
      'sha256Hex',
      'canonicalJson',
      'verifyAuditChain',
      'generateDevicePassword',
      'checkPasswordPolicy',
      'isDomainError',
    ] as const) {
      expect(typeof core[name]).toBe('function');
    }
    for (const name of [
      'OrganisationSchema',
      'UserSchema',
      'MembershipSchema',
      'SiteSchema',
      'SiteGrantSchema',
      'AgentSchema',
      'CameraSchema',
      'OwnershipRecordSchema',
      'CredentialReferenceSchema',
      'RecommissioningCaseSchema',
      'ApprovalRequestSchema',
      'ApprovalDecisionSchema',
      'ExecutableGrantSchema',
      'CommandSchema',
      'VerificationSchema',
      'AuditEventSchema',
      'CaseStateSchema',
      'CaseEventSchema',
    ] as const) {
      expect(typeof core[name].safeParse).toBe('function');
    }
  });
});
