import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  accessState,
  approvalDecision,
  credentialAccount,
  credentialStatus,
  evidenceKind,
  memberRole,
  orgKind,
} from './enums.ts';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

const id = () => uuid('id').primaryKey().defaultRandom();
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const ts = (name: string) => timestamp(name, { withTimezone: true });
const SERIAL_CHECK = "~ '^[0-9A-F]{12}$'";

export const organisations = pgTable('organisations', {
  id: id(),
  name: text('name').notNull(),
  kind: orgKind('kind').notNull(),
  createdAt: createdAt(),
});

export const users = pgTable(
  'users',
  {
    id: id(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)],
);

export const memberships = pgTable(
  'memberships',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    role: memberRole('role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.orgId, t.role] }),
    index('memberships_org_idx').on(t.orgId),
  ],
);

export const sites = pgTable(
  'sites',
  {
    id: id(),
    ownerOrgId: uuid('owner_org_id')
      .notNull()
      .references(() => organisations.id),
    name: text('name').notNull(),
    address: text('address').notNull().default(''),
    networkNotes: text('network_notes').notNull().default(''),
    dhcpRangeStart: text('dhcp_range_start'),
    dhcpRangeEnd: text('dhcp_range_end'),
    approvalQuorum: integer('approval_quorum').notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [
    index('sites_owner_org_idx').on(t.ownerOrgId),
    check('sites_quorum_positive', sql`${t.approvalQuorum} >= 1`),
  ],
);

export const siteGrants = pgTable(
  'site_grants',
  {
    id: id(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    integratorOrgId: uuid('integrator_org_id')
      .notNull()
      .references(() => organisations.id),
    grantedBy: uuid('granted_by')
      .notNull()
      .references(() => users.id),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    revokedBy: uuid('revoked_by').references(() => users.id),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('site_grants_active_key')
      .on(t.siteId, t.integratorOrgId)
      .where(sql`${t.revokedAt} is null`),
    index('site_grants_integrator_idx').on(t.integratorOrgId),
  ],
);

export const agents = pgTable(
  'agents',
  {
    id: id(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    name: text('name').notNull(),
    publicKey: text('public_key').notNull(),
    version: text('version'),
    lastSeenAt: ts('last_seen_at'),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('agents_site_idx').on(t.siteId),
    uniqueIndex('agents_public_key_key').on(t.publicKey),
  ],
);

export const cameras = pgTable(
  'cameras',
  {
    serial: text('serial').primaryKey(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    model: text('model'),
    productName: text('product_name'),
    firmware: text('firmware'),
    hardwareId: text('hardware_id'),
    address: text('address'),
    accessState: accessState('access_state').notNull().default('unreachable'),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    check('cameras_serial_format', sql.raw(`serial ${SERIAL_CHECK}`)),
    index('cameras_site_serial_idx').on(t.siteId, t.serial),
    index('cameras_site_access_idx').on(t.siteId, t.accessState),
    index('cameras_last_seen_idx').on(t.lastSeenAt),
    index('cameras_serial_trgm_idx').using('gin', sql`${t.serial} gin_trgm_ops`),
    index('cameras_model_trgm_idx').using('gin', sql`lower(${t.model}) gin_trgm_ops`),
    index('cameras_product_name_trgm_idx').using('gin', sql`lower(${t.productName}) gin_trgm_ops`),
  ],
);

export const cameraAddresses = pgTable(
  'camera_addresses',
  {
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    source: text('source').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.serial, t.address] })],
);

export const documents = pgTable(
  'documents',
  {
    id: id(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organisations.id),
    filename: text('filename').notNull(),
    mediaType: text('media_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    content: bytea('content').notNull(),
    uploadedBy: uuid('uploaded_by')
      .notNull()
      .references(() => users.id),
    uploadedAt: ts('uploaded_at').notNull().defaultNow(),
  },
  (t) => [check('documents_size_nonnegative', sql`${t.sizeBytes} >= 0`)],
);

export const ownershipRecords = pgTable(
  'ownership_records',
  {
    id: id(),
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial),
    ownerOrgId: uuid('owner_org_id')
      .notNull()
      .references(() => organisations.id),
    circumstances: text('circumstances').notNull().default(''),
    attestedBy: uuid('attested_by')
      .notNull()
      .references(() => users.id),
    attestedAt: ts('attested_at').notNull().defaultNow(),
    supersededAt: ts('superseded_at'),
  },
  (t) => [
    index('ownership_records_serial_idx').on(t.serial),
    uniqueIndex('ownership_records_current_key')
      .on(t.serial)
      .where(sql`${t.supersededAt} is null`),
  ],
);

export const ownershipEvidence = pgTable(
  'ownership_evidence',
  {
    id: id(),
    recordId: uuid('record_id')
      .notNull()
      .references(() => ownershipRecords.id, { onDelete: 'cascade' }),
    kind: evidenceKind('kind').notNull(),
    reference: text('reference').notNull(),
    documentId: uuid('document_id').references(() => documents.id),
  },
  (t) => [index('ownership_evidence_record_idx').on(t.recordId)],
);

export const credentials = pgTable(
  'credentials',
  {
    id: id(),
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial),
    account: credentialAccount('account').notNull(),
    username: text('username').notNull(),
    version: integer('version').notNull(),
    status: credentialStatus('status').notNull().default('pending'),
    ciphertext: bytea('ciphertext').notNull(),
    wrappedKey: bytea('wrapped_key').notNull(),
    keyId: text('key_id').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('credentials_version_key').on(t.serial, t.account, t.version)],
);

export const cases = pgTable(
  'cases',
  {
    id: id(),
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    status: text('status').notNull().default('opened'),
    state: jsonb('state').notNull(),
    revision: integer('revision').notNull().default(0),
    openedBy: uuid('opened_by')
      .notNull()
      .references(() => users.id),
    openedAt: ts('opened_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('cases_site_status_idx').on(t.siteId, t.status),
    index('cases_serial_idx').on(t.serial),
  ],
);

export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    serial: text('serial').notNull(),
    verb: text('verb').notNull(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id),
    requestedBy: uuid('requested_by')
      .notNull()
      .references(() => users.id),
    reason: text('reason').notNull(),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('approval_requests_site_idx').on(t.siteId)],
);

export const approvalDecisions = pgTable(
  'approval_decisions',
  {
    requestId: uuid('request_id')
      .notNull()
      .references(() => approvalRequests.id, { onDelete: 'cascade' }),
    approverId: uuid('approver_id')
      .notNull()
      .references(() => users.id),
    decision: approvalDecision('decision').notNull(),
    reason: text('reason').notNull(),
    decidedAt: ts('decided_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.approverId] })],
);

export const approvalGrants = pgTable('approval_grants', {
  id: id(),
  requestId: uuid('request_id')
    .notNull()
    .unique()
    .references(() => approvalRequests.id),
  serial: text('serial').notNull(),
  verb: text('verb').notNull(),
  siteId: uuid('site_id').notNull(),
  agentId: uuid('agent_id').notNull(),
  issuedAt: ts('issued_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  usedByCommandId: uuid('used_by_command_id'),
});

export const commands = pgTable(
  'commands',
  {
    id: id(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id),
    serial: text('serial'),
    verb: text('verb').notNull(),
    params: jsonb('params').notNull().default({}),
    approvalGrantId: uuid('approval_grant_id').references(() => approvalGrants.id),
    caseId: uuid('case_id').references(() => cases.id),
    status: text('status').notNull().default('queued'),
    requestedBy: uuid('requested_by').references(() => users.id),
    queuedAt: ts('queued_at').notNull().defaultNow(),
    claimedAt: ts('claimed_at'),
    claimedBy: text('claimed_by'),
    completedAt: ts('completed_at'),
    result: jsonb('result'),
    error: jsonb('error'),
  },
  (t) => [
    index('commands_agent_status_idx').on(t.agentId, t.status, t.queuedAt),
    index('commands_case_idx').on(t.caseId),
  ],
);

export const verifications = pgTable(
  'verifications',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    serial: text('serial').notNull(),
    passed: boolean('passed').notNull(),
    checks: jsonb('checks').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('verifications_case_idx').on(t.caseId)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique().defaultRandom(),
    orgId: uuid('org_id').references(() => organisations.id),
    actorId: uuid('actor_id').references(() => users.id),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    payload: jsonb('payload').notNull(),
    at: ts('at').notNull().defaultNow(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull().unique(),
  },
  (t) => [index('audit_events_subject_idx').on(t.subjectType, t.subjectId)],
);
