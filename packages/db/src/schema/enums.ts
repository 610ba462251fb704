import { pgEnum } from 'drizzle-orm/pg-core';
import {
  ACCESS_STATES,
  APPROVAL_DECISIONS,
  CREDENTIAL_ACCOUNTS,
  EVIDENCE_KINDS,
  ORG_KINDS,
  ROLES,
} from '@custody/core';

// Only closed, stable vocabularies become PostgreSQL enums. Case states, command verbs and
// command statuses grow with the workflow, so they are text validated by core's schemas.
export const orgKind = pgEnum('org_kind', ORG_KINDS);
export const memberRole = pgEnum('member_role', ROLES);
export const accessState = pgEnum('access_state', ACCESS_STATES);
export const evidenceKind = pgEnum('evidence_kind', EVIDENCE_KINDS);
export const credentialAccount = pgEnum('credential_account', CREDENTIAL_ACCOUNTS);
export const approvalDecision = pgEnum('approval_decision', APPROVAL_DECISIONS);
export const credentialStatus = pgEnum('credential_status', ['pending', 'active', 'retired']);
