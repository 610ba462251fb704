import { z } from 'zod';
import { CommandVerbSchema } from '../command-verb.ts';
import { ADDRESS_SOURCES, AccessStateSchema } from '../schemas/camera.ts';
import { IdSchema } from '../schemas/common.ts';
import { SerialSchema } from '../serial.ts';
import { Ed25519PublicKeySchema, Ed25519SignatureSchema, NonceSchema } from './keys.ts';

/*
 * The agent protocol: JSON text frames over one WebSocket (/agent/v1). Every frame is an envelope
 * { v, id, type, sentAt, ...body }. `id` is chosen once by the sender, so a message replayed from
 * the agent's outbox after a reconnect carries the same id and the server can drop the duplicate.
 *
 * Connection: server sends `challenge`; agent answers `hello` signed with its identity key; server
 * answers `welcome` (or `error` + close). After that either side may send its messages; the server
 * acknowledges durable agent messages with `ack`, which lets the agent trim its outbox.
 */

const WireTimeSchema = z.iso.datetime({ offset: true });
const MessageTextSchema = z.string().max(2_000);
const JsonRecordSchema = z.record(z.string(), z.json());

/** Largest frame either side accepts; inventory snapshots are chunked to stay well under it. */
export const MAX_FRAME_BYTES = 1_048_576;
export const MAX_CAMERAS_PER_FRAME = 1_000;
/**
 * Deepest nesting of objects and arrays a frame may have (the message object itself is level 1).
 * Real messages stay under 10 levels; the limit keeps a hostile frame from exhausting the stack of
 * the validator or of the canonical JSON a command signature is checked over.
 */
export const MAX_FRAME_DEPTH = 32;

const envelope = <T extends string>(type: T) =>
  z.object({
    v: z.int().min(1).max(1_000),
    id: IdSchema,
    type: z.literal(type),
    sentAt: WireTimeSchema,
  });

export const DiscoveryMethodSchema = z.enum(['ssdp', 'mdns', 'scan']);

/** One camera as the agent sees it. Identity fields are null until a probe has read them. */
export const CameraSightingSchema = z.object({
  serial: SerialSchema,
  url: z.url({ protocol: /^https?$/ }).max(300),
  address: z.union([z.ipv4(), z.ipv6()]),
  source: z.enum(ADDRESS_SOURCES),
  model: z.string().max(200).nullable(),
  productName: z.string().max(200).nullable(),
  firmware: z.string().max(200).nullable(),
  hardwareId: z.string().max(200).nullable(),
  mac: z.string().max(32).nullable(),
  accessState: AccessStateSchema.nullable(),
  seenAt: WireTimeSchema,
});
export type CameraSighting = z.infer<typeof CameraSightingSchema>;

export const ErrorBodySchema = z.object({
  code: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/),
  message: MessageTextSchema,
  /** The id of the message this error is about, when there is one. */
  refId: IdSchema.optional(),
});

// Agent -> server

export const HelloMessageSchema = envelope('hello').extend({
  agentId: IdSchema,
  protocolVersions: z.array(z.int().min(1)).min(1).max(10),
  agentVersion: z.string().min(1).max(100),
  capabilities: z.object({
    verbs: z.array(CommandVerbSchema).max(50),
    discovery: z.array(DiscoveryMethodSchema).max(10),
  }),
  /** The gateway URL the agent dialled; it is part of what was signed. */
  gatewayUrl: z.url({ protocol: /^wss?$/ }).max(500),
  signature: Ed25519SignatureSchema,
});

export const AgentHeartbeatMessageSchema = envelope('heartbeat').extend({
  outboxDepth: z.int().min(0),
  runningCommands: z.int().min(0),
});

export const InventorySnapshotMessageSchema = envelope('inventory-snapshot')
  .extend({
    /** One snapshot may span several frames; `part` counts from 1 to `parts`. */
    snapshotId: IdSchema,
    part: z.int().min(1),
    parts: z.int().min(1).max(1_000),
    cameras: z.array(CameraSightingSchema).max(MAX_CAMERAS_PER_FRAME),
  })
  .refine((message) => message.part <= message.parts, {
    path: ['part'],
    message: 'A snapshot part is numbered from 1 to `parts`.',
  });

export const InventoryDeltaMessageSchema = envelope('inventory-delta').extend({
  upserts: z.array(CameraSightingSchema).max(MAX_CAMERAS_PER_FRAME),
  /** Cameras the agent stopped seeing (kept in inventory as last seen, not deleted). */
  lost: z.array(SerialSchema).max(MAX_CAMERAS_PER_FRAME),
});

export const DiscoveryEventMessageSchema = envelope('discovery-event').extend({
  event: z.enum(['appeared', 'address-changed', 'lost']),
  serial: SerialSchema,
  url: z.url({ protocol: /^https?$/ }).max(300),
  previousUrl: z
    .url({ protocol: /^https?$/ })
    .max(300)
    .nullable(),
  via: z.enum(ADDRESS_SOURCES),
});

export const CommandAckMessageSchema = envelope('command-ack').extend({ commandId: IdSchema });

export const CommandProgressMessageSchema = envelope('command-progress').extend({
  commandId: IdSchema,
  step: z.string().min(1).max(100),
  message: MessageTextSchema,
  fraction: z.number().min(0).max(1).optional(),
});

export const COMMAND_OUTCOMES = ['succeeded', 'failed', 'refused'] as const;
export const CommandResultMessageSchema = envelope('command-result').extend({
  commandId: IdSchema,
  outcome: z.enum(COMMAND_OUTCOMES),
  /** Verb-specific, secret-free result (evidence for verify, access state for probe, …). */
  result: JsonRecordSchema.nullable(),
  error: ErrorBodySchema.omit({ refId: true }).nullable(),
  /** True when this is the stored result of a command that already ran, sent again. */
  replayed: z.boolean(),
});

export const AgentErrorMessageSchema = envelope('error').extend(ErrorBodySchema.shape);

export const AgentMessageSchema = z.discriminatedUnion('type', [
  HelloMessageSchema,
  AgentHeartbeatMessageSchema,
  InventorySnapshotMessageSchema,
  InventoryDeltaMessageSchema,
  DiscoveryEventMessageSchema,
  CommandAckMessageSchema,
  CommandProgressMessageSchema,
  CommandResultMessageSchema,
  AgentErrorMessageSchema,
]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type AgentMessageType = AgentMessage['type'];

/** Agent messages that go through the durable outbox and are acknowledged by the server. */
export const DURABLE_AGENT_MESSAGE_TYPES = [
  'inventory-snapshot',
  'inventory-delta',
  'discovery-event',
  'command-ack',
  'command-progress',
  'command-result',
] as const satisfies readonly AgentMessageType[];

// Server -> agent

export const ChallengeMessageSchema = envelope('challenge').extend({
  nonce: NonceSchema,
  protocolVersions: z.array(z.int().min(1)).min(1).max(10),
});

export const WelcomeMessageSchema = envelope('welcome').extend({
  agentId: IdSchema,
  protocolVersion: z.int().min(1),
  heartbeatIntervalMs: z.int().min(1_000).max(300_000),
  serverTime: WireTimeSchema,
});

export const AckMessageSchema = envelope('ack').extend({
  ids: z.array(IdSchema).min(1).max(10_000),
});

export const CommandMessageSchema = envelope('command').extend({
  /** Kept raw: the signature is checked over exactly what arrived, before it is parsed. */
  payload: z.record(z.string(), z.unknown()),
  signature: Ed25519SignatureSchema,
});

export const ServerHeartbeatMessageSchema = envelope('heartbeat').extend({
  serverTime: WireTimeSchema,
});

export const ServerErrorMessageSchema = envelope('error').extend({
  ...ErrorBodySchema.shape,
  /** The server closes the connection after a fatal error (revoked agent, failed auth). */
  fatal: z.boolean(),
});

export const ServerMessageSchema = z.discriminatedUnion('type', [
  ChallengeMessageSchema,
  WelcomeMessageSchema,
  AckMessageSchema,
  CommandMessageSchema,
  ServerHeartbeatMessageSchema,
  ServerErrorMessageSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ServerMessageType = ServerMessage['type'];

/** Close codes the gateway uses (4000-4999 is the application range). */
export const CLOSE_CODES = {
  authFailed: 4001,
  revoked: 4003,
  unsupportedVersion: 4004,
  malformed: 4005,
  replaced: 4009,
} as const;

// Enrollment (HTTPS POST /agent/v1/enroll)

export const EnrollRequestSchema = z.object({
  token: z.string().min(16).max(200),
  publicKey: Ed25519PublicKeySchema,
  name: z.string().trim().min(1).max(100),
  agentVersion: z.string().min(1).max(100),
});
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  agentId: IdSchema,
  siteId: IdSchema,
  /** The key the server signs commands with; the agent trusts no other. */
  commandSigningKey: Ed25519PublicKeySchema,
  gatewayUrl: z.url({ protocol: /^wss?$/ }).max(500),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;
