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
    // better-auth's user model lives on this table (see schema/auth.ts); these three are its.
    emailVerified: boolean('email_verified').notNull().default(false),
    image: text('image'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
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
    // The fleet list sorts by site name; sites are rarely written, so this costs ingest nothing.
    index('sites_name_idx').on(t.name, t.id),
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
    /** AgentStatus from core: pending until its first connection, then online/offline, or revoked. */
    status: text('status').notNull().default('pending'),
    /** Negotiated on the last connection. */
    protocolVersion: integer('protocol_version'),
    /** The verbs and discovery methods the agent announced in its last hello. */
    capabilities: jsonb('capabilities'),
    /**
     * The connection that holds the agent now. Several server processes may share the database;
     * the one whose session this is owns the agent until it disconnects or is replaced.
     */
    sessionId: text('session_id'),
    connectedAt: ts('connected_at'),
    disconnectedAt: ts('disconnected_at'),
    /** From the agent's heartbeats: its unacknowledged outbox and running commands. */
    outboxDepth: integer('outbox_depth'),
    runningCommands: integer('running_commands'),
    lastSeenAt: ts('last_seen_at'),
    revokedAt: ts('revoked_at'),
    revokedBy: uuid('revoked_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('agents_site_idx').on(t.siteId),
    uniqueIndex('agents_public_key_key').on(t.publicKey),
  ],
);

/**
 * Single-use enrollment tokens. Only the SHA-256 of a token is stored: the token itself is shown
 * once to whoever creates it and is never readable from the database.
 */
export const enrollmentTokens = pgTable(
  'enrollment_tokens',
  {
    id: id(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    usedByAgent: uuid('used_by_agent').references(() => agents.id),
  },
  (t) => [
    uniqueIndex('enrollment_tokens_hash_key').on(t.tokenHash),
    index('enrollment_tokens_site_idx').on(t.siteId),
    check('enrollment_tokens_hash_format', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`),
    check(
      'enrollment_tokens_used_together',
      sql`(${t.usedAt} is null) = (${t.usedByAgent} is null)`,
    ),
  ],
);

/**
 * Durable agent messages already applied, by the id the agent gave them: a replay after a lost
 * ack is acknowledged again and otherwise ignored. Rows are pruned after a retention period.
 * A message that failed validation is kept with its error and frame for diagnosis (durable
 * messages carry no secret).
 */
export const agentMessages = pgTable(
  'agent_messages',
  {
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').notNull(),
    type: text('type').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    error: jsonb('error'),
    frame: text('frame'),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.messageId] }),
    index('agent_messages_received_idx').on(t.receivedAt),
  ],
);

/**
 * Parts of an inventory snapshot that spans several frames. Each part's cameras are applied when
 * it arrives; the serials are kept until the last part, when the cameras the snapshot no longer
 * contains are marked lost.
 */
export const inventorySnapshotParts = pgTable(
  'inventory_snapshot_parts',
  {
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    snapshotId: uuid('snapshot_id').notNull(),
    part: integer('part').notNull(),
    parts: integer('parts').notNull(),
    serials: text('serials').array().notNull(),
    sentAt: ts('sent_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.snapshotId, t.part] }),
    index('inventory_snapshot_parts_received_idx').on(t.receivedAt),
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
    mac: text('mac'),
    address: text('address'),
    url: text('url'),
    /** How the current address was learned (core's ADDRESS_SOURCES). */
    source: text('source'),
    /** Null until a probe has read it. */
    accessState: accessState('access_state'),
    /** The agent that reported the camera last. */
    agentId: uuid('agent_id').references(() => agents.id),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    /** When the agent stopped seeing it; cleared when it is seen again. Cameras are never deleted. */
    lostAt: ts('lost_at'),
  },
  (t) => [
    check('cameras_serial_format', sql.raw(`serial ${SERIAL_CHECK}`)),
    index('cameras_site_serial_idx').on(t.siteId, t.serial),
    index('cameras_site_access_idx').on(t.siteId, t.accessState),
    index('cameras_last_seen_idx').on(t.lastSeenAt),
    // On lower(serial), not serial: PostgreSQL also answers `serial = any(…)` from a trigram
    // index on the bare column, at tens of milliseconds per lookup, when the primary key takes
    // microseconds. An expression index serves the search and nothing else.
    index('cameras_serial_trgm_idx').using('gin', sql`lower(${t.serial}) gin_trgm_ops`),
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

/**
 * A serial reported by an agent of a site other than the one the camera is registered to. The
 * camera stays where it is; the sighting is kept so the fleet audit can show duplicate serials.
 */
export const cameraSiteConflicts = pgTable(
  'camera_site_conflicts',
  {
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    address: text('address').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.serial, t.agentId] }),
    index('camera_site_conflicts_site_idx').on(t.siteId),
  ],
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
  (t) => [
    uniqueIndex('credentials_version_key').on(t.serial, t.account, t.version),
    // The fleet audit's "no documented credential" over every camera, and rotation's selection.
    index('credentials_active_admin_idx')
      .on(t.serial)
      .where(sql`${t.account} = 'admin' and ${t.status} = 'active'`),
  ],
);

/**
 * Passwords a technician entered for one camera during triage (the previous installer's notes, a
 * handover sheet). Sealed by the vault like credentials; tested through the agent within the
 * attempt budget and never tried against another camera.
 */
export const credentialCandidates = pgTable(
  'credential_candidates',
  {
    id: id(),
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial),
    caseId: uuid('case_id').references(() => cases.id),
    username: text('username').notNull(),
    ciphertext: bytea('ciphertext').notNull(),
    wrappedKey: bytea('wrapped_key').notNull(),
    keyId: text('key_id').notNull(),
    /** Where it came from, in the technician's words ("handover sheet 2019"). */
    source: text('source').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
    testedAt: ts('tested_at'),
    /** core's CredentialTestOutcome once tested. */
    outcome: text('outcome'),
  },
  (t) => [index('credential_candidates_serial_idx').on(t.serial, t.createdAt)],
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
    /**
     * What the case has learned and planned, validated by web's case service: the triage decision
     * and its reasons, the recommission plan (network, time, VMS), reset attempts, the VMS
     * confirmation. The state machine's own state stays in `state`.
     */
    details: jsonb('details').notNull().default({}),
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
    uniqueIndex('cases_open_serial_key')
      .on(t.serial)
      .where(sql`${t.status} not in ('documented', 'denied', 'cancelled')`),
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
    /** pending, approved, denied, expired or withdrawn; decided by core's approval policy. */
    status: text('status').notNull().default('pending'),
    /** The site's quorum when the request was made: a later change does not move the goalposts. */
    quorum: integer('quorum').notNull().default(1),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    decidedAt: ts('decided_at'),
  },
  (t) => [
    index('approval_requests_site_idx').on(t.siteId),
    index('approval_requests_pending_idx')
      .on(t.siteId, t.requestedAt)
      .where(sql`${t.status} = 'pending'`),
    index('approval_requests_case_idx').on(t.caseId),
  ],
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
    /**
     * The payload the server signs, without `secrets`: those are resolved from the vault each
     * time the command is sent (`secretsRef` names them) and never stored here.
     */
    payload: jsonb('payload'),
    secretsRef: jsonb('secrets_ref'),
    nonce: text('nonce'),
    issuedAt: ts('issued_at'),
    expiresAt: ts('expires_at'),
    queuedAt: ts('queued_at').notNull().defaultNow(),
    /** The server process that sent it last. */
    claimedAt: ts('claimed_at'),
    claimedBy: text('claimed_by'),
    dispatchedAt: ts('dispatched_at'),
    dispatchCount: integer('dispatch_count').notNull().default(0),
    ackedAt: ts('acked_at'),
    /** The latest command-progress: `{ step, message, fraction?, at }`. */
    progress: jsonb('progress'),
    completedAt: ts('completed_at'),
    result: jsonb('result'),
    error: jsonb('error'),
  },
  (t) => [
    index('commands_agent_status_idx').on(t.agentId, t.status, t.queuedAt),
    index('commands_case_idx').on(t.caseId),
    uniqueIndex('commands_nonce_key').on(t.nonce),
    index('commands_pending_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} in ('queued', 'dispatched')`),
    // The fleet audit's "never verified after a reset": each camera's latest completed reset.
    index('commands_reset_serial_idx')
      .on(t.serial, t.completedAt)
      .where(
        sql`${t.status} = 'succeeded' and ${t.verb} in ('factory-default-soft', 'factory-default-hard', 'watch-for-device')`,
      ),
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
    /** The snapshot taken during verification, kept as a thumbnail-sized JPEG. */
    snapshotDocumentId: uuid('snapshot_document_id').references(() => documents.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('verifications_case_idx').on(t.caseId),
    index('verifications_serial_idx').on(t.serial, t.createdAt),
  ],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique().defaultRandom(),
    orgId: uuid('org_id').references(() => organisations.id),
    /** The site the event concerns, so an owner sees what integrators did on its sites. */
    siteId: uuid('site_id').references(() => sites.id),
    actorId: uuid('actor_id').references(() => users.id),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    payload: jsonb('payload').notNull(),
    at: ts('at').notNull().defaultNow(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull().unique(),
  },
  (t) => [
    index('audit_events_subject_idx').on(t.subjectType, t.subjectId),
    index('audit_events_org_idx').on(t.orgId, t.seq),
    index('audit_events_site_idx').on(t.siteId, t.seq),
    index('audit_events_action_actor_idx').on(t.action, t.actorId, t.at),
  ],
);

/**
 * A bulk password rotation over a selection of cameras: a canary batch first, then waves. Its
 * cameras are `rotation_items`; the rotation engine (web) drives both from command results.
 */
export const rotationJobs = pgTable(
  'rotation_jobs',
  {
    id: id(),
    /** The organisation running it (an integrator, or an owner on its own sites). */
    orgId: uuid('org_id')
      .notNull()
      .references(() => organisations.id),
    /** What the user selected (sites, a fleet filter or serials), as they asked for it. */
    selection: jsonb('selection').notNull(),
    /** The account whose password changes on each camera. */
    account: credentialAccount('account').notNull().default('admin'),
    canarySize: integer('canary_size').notNull(),
    waveSize: integer('wave_size').notNull(),
    /** Failures in one wave (canary included) that stop the job before the next wave. */
    maxFailures: integer('max_failures').notNull().default(0),
    /** running, paused, stopped, completed or cancelled; decided by the rotation engine. */
    status: text('status').notNull().default('running'),
    /** The wave under way: 0 is the canary. */
    currentWave: integer('current_wave').notNull().default(0),
    /** Why the job stopped (a lockout signal, too many failures, a user), in words. */
    stopReason: text('stop_reason'),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('rotation_jobs_org_idx').on(t.orgId, t.createdAt),
    index('rotation_jobs_active_idx')
      .on(t.status)
      .where(sql`${t.status} in ('running', 'paused')`),
  ],
);

export const rotationItems = pgTable(
  'rotation_items',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => rotationJobs.id, { onDelete: 'cascade' }),
    serial: text('serial')
      .notNull()
      .references(() => cameras.serial),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    /** 0 is the canary batch. */
    wave: integer('wave').notNull(),
    /**
     * queued, changing (the change command is out), checking (its outcome is unknown and the
     * vault's versions are being tested), rotated, failed or skipped.
     */
    status: text('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    /** The pending version vaulted before the change command carrying it was queued. */
    credentialId: uuid('credential_id').references(() => credentials.id, {
      onDelete: 'set null',
    }),
    /** The command in flight (change or check). */
    commandId: uuid('command_id').references(() => commands.id),
    /** `{ code, message }` of the last failure, shown to the user. */
    error: jsonb('error'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.serial] }),
    index('rotation_items_job_wave_idx').on(t.jobId, t.wave, t.status),
    index('rotation_items_command_idx').on(t.commandId),
    uniqueIndex('rotation_items_active_serial_key')
      .on(t.serial)
      .where(sql`${t.status} in ('queued', 'changing', 'checking')`),
  ],
);

/**
 * Cameras known to be in the customer's VMS: confirmed at a case's handover, imported from the
 * VMS's own list, or marked by hand. The fleet audit lists cameras without a row.
 */
export const vmsRegistrations = pgTable('vms_registrations', {
  serial: text('serial')
    .primaryKey()
    .references(() => cameras.serial),
  platform: text('platform').notNull().default(''),
  /** case, import or manual. */
  source: text('source').notNull(),
  confirmedBy: uuid('confirmed_by').references(() => users.id),
  confirmedAt: ts('confirmed_at').notNull().defaultNow(),
});

/** Per organisation: what the fleet documentation audit counts as a finding, and how often. */
export const fleetAuditSettings = pgTable('fleet_audit_settings', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => organisations.id),
  /** Firmware below this version is a finding; null: no floor. */
  firmwareFloor: text('firmware_floor'),
  /** A camera not seen for this many days is a finding. */
  staleAfterDays: integer('stale_after_days').notNull().default(30),
  /** How often a snapshot is taken for the trend. */
  snapshotIntervalHours: integer('snapshot_interval_hours').notNull().default(24),
  updatedBy: uuid('updated_by').references(() => users.id),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** The audit's counts at one moment, fleet-wide and per site, for the trend. */
export const fleetAuditSnapshots = pgTable(
  'fleet_audit_snapshots',
  {
    id: id(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organisations.id),
    takenAt: ts('taken_at').notNull().defaultNow(),
    /** scheduled or manual. */
    trigger: text('trigger').notNull(),
    cameraCount: integer('camera_count').notNull(),
    /** Finding code → cameras with it, fleet-wide. */
    totals: jsonb('totals').notNull(),
    /** Site id → `{ cameras, findings: { code → count } }`. */
    sites: jsonb('sites').notNull(),
    /** The settings the audit ran with (floor, stale days). */
    settings: jsonb('settings').notNull(),
  },
  (t) => [index('fleet_audit_snapshots_org_idx').on(t.orgId, t.takenAt)],
);
