import { z } from 'zod';
import { ApprovableActionSchema, CommandVerbSchema, isDestructiveVerb } from '../command-verb.ts';
import type { CommandVerb } from '../command-verb.ts';
import { SerialSchema } from '../serial.ts';
import { IdSchema } from '../schemas/common.ts';
import { NonceSchema } from './keys.ts';

const WireTimeSchema = z.iso.datetime({ offset: true });
const CredentialRefSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'A credential reference is a short lower-case name.');
const UsernameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'A device user name is letters, digits, "_", "." or "-".');
const CameraUrlSchema = z.url({ protocol: /^https?$/ }).max(300);

/**
 * A credential delivered just in time for one command. It lives in the agent's memory for that job
 * only: never journaled, logged or echoed in a result.
 */
export const CredentialSecretSchema = z.object({
  username: UsernameSchema,
  password: z.string().min(1).max(256),
});
export type CredentialSecret = z.infer<typeof CredentialSecretSchema>;

const NetworkPlanSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('dhcp') }),
  z.object({
    mode: z.literal('static'),
    address: z.ipv4(),
    prefixLength: z.int().min(1).max(32),
    gateway: z.ipv4(),
    dns: z.array(z.ipv4()).max(3).default([]),
  }),
]);
export type NetworkPlan = z.infer<typeof NetworkPlanSchema>;

const TimePlanSchema = z.object({
  timezone: z.string().min(1).max(64),
  ntpServers: z.array(z.string().min(1).max(253)).max(4).default([]),
});

export const VERIFY_CHECKS = [
  'serial-at-address',
  'new-credential-works',
  'old-credential-fails',
  'snapshot-jpeg',
  'rtsp-describe',
  'recordings',
] as const;
export type VerifyCheck = (typeof VERIFY_CHECKS)[number];

/**
 * Each verb's parameters. Credentials are named by reference; the secrets themselves travel in
 * the command's `secrets` map so one redaction step removes every one of them.
 */
export const CommandParamsSchemas = {
  probe: z.object({ credential: CredentialRefSchema.optional() }),
  'test-credential': z.object({ credentials: z.array(CredentialRefSchema).min(1).max(10) }),
  'rotate-credential': z.object({
    /** The admin credential that works today. */
    credential: CredentialRefSchema,
    /** The account to change and its new password, already vaulted by the server. */
    next: CredentialRefSchema,
    /**
     * The account's password today, when the account is not `credential`'s own: the agent then
     * proves it fails after the change. Agents that predate it ignore it (and cannot prove that).
     */
    previous: CredentialRefSchema.optional(),
  }),
  'soft-restart': z.object({ credential: CredentialRefSchema }),
  'factory-default-soft': z.object({ credential: CredentialRefSchema }),
  'factory-default-hard': z.object({ credential: CredentialRefSchema }),
  'watch-for-device': z.object({
    timeoutMs: z.int().min(1_000).max(3_600_000),
    /** Extra addresses to poll besides discovery: the planned DHCP lease, 192.168.0.90, … */
    candidateUrls: z.array(CameraUrlSchema).max(16).default([]),
    /** Return only when the device comes back in factory-default state (needs setup). */
    requireFactoryDefault: z.boolean().default(true),
  }),
  provision: z.object({
    admin: CredentialRefSchema,
    serviceAccount: CredentialRefSchema,
    vmsAccount: CredentialRefSchema.optional(),
    network: NetworkPlanSchema.optional(),
    time: TimePlanSchema.optional(),
    /**
     * Stale device accounts to remove (credential clean-up), never one of the accounts above.
     * An agent that predates this field ignores it, so the server checks the result reports a
     * `remove-accounts` step.
     */
    removeAccounts: z.array(UsernameSchema).max(20).default([]),
  }),
  verify: z.object({
    credential: CredentialRefSchema,
    oldCredential: CredentialRefSchema.optional(),
    vmsCredential: CredentialRefSchema.optional(),
    expectedUrl: CameraUrlSchema.optional(),
    checks: z.array(z.enum(VERIFY_CHECKS)).min(1),
    /**
     * Also return a small JPEG (the camera's smallest resolution, at most 128 KiB, base64) in the
     * snapshot check's evidence, for the case's record. Older agents ignore it.
     */
    thumbnail: z.boolean().optional(),
  }),
} as const satisfies Record<CommandVerb, z.ZodType>;
export type CommandParams<V extends CommandVerb> = z.infer<(typeof CommandParamsSchemas)[V]>;

/** The approval a destructive command is bound to, as the server issued it. */
export const ApprovalBindingSchema = z.object({
  grantId: IdSchema,
  action: ApprovableActionSchema,
  serial: SerialSchema,
  siteId: IdSchema,
  agentId: IdSchema,
  expiresAt: WireTimeSchema,
});
export type ApprovalBinding = z.infer<typeof ApprovalBindingSchema>;

/**
 * Everything the server signs. The agent checks the signature over the canonical JSON of this
 * object (secrets included, so a swapped password is detected), then the binding.
 */
export const CommandPayloadSchema = z
  .object({
    commandId: IdSchema,
    agentId: IdSchema,
    siteId: IdSchema,
    serial: SerialSchema,
    /** Where the server last saw the camera; the agent re-checks the serial there before acting. */
    url: CameraUrlSchema.optional(),
    verb: CommandVerbSchema,
    params: z.record(z.string(), z.unknown()),
    secrets: z.record(z.string(), CredentialSecretSchema),
    approval: ApprovalBindingSchema.nullable(),
    issuedAt: WireTimeSchema,
    expiresAt: WireTimeSchema,
    nonce: NonceSchema,
  })
  .superRefine((payload, ctx) => {
    const params = CommandParamsSchemas[payload.verb].safeParse(payload.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        ctx.addIssue({ ...issue, path: ['params', ...issue.path] });
      }
      return;
    }
    for (const ref of credentialRefsOf(payload.verb, params.data)) {
      // hasOwn, not `in`: "constructor" is a well-formed reference and inherited by every object.
      if (!Object.hasOwn(payload.secrets, ref)) {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', ref],
          message: `The credential "${ref}" is referenced but not delivered.`,
        });
      }
    }
  });
export type CommandPayload = z.infer<typeof CommandPayloadSchema>;

/** Every credential reference a verb's parameters name, in order. */
export function credentialRefsOf(verb: CommandVerb, params: unknown): string[] {
  const parsed = CommandParamsSchemas[verb].safeParse(params);
  if (!parsed.success) return [];
  const value = parsed.data as Record<string, unknown>;
  const refs: string[] = [];
  for (const key of [
    'credential',
    'next',
    'previous',
    'admin',
    'serviceAccount',
    'vmsAccount',
    'oldCredential',
    'vmsCredential',
  ]) {
    const ref = value[key];
    if (typeof ref === 'string') refs.push(ref);
  }
  if (Array.isArray(value.credentials)) refs.push(...(value.credentials as string[]));
  return refs;
}

/** Parses a verb's parameters after the payload itself has been accepted. */
export function paramsOf<V extends CommandVerb>(
  payload: CommandPayload & { verb: V },
): CommandParams<V> {
  return CommandParamsSchemas[payload.verb].parse(payload.params) as CommandParams<V>;
}

/** The command with its secrets removed: what may be journaled, logged or stored. */
export function redactCommand(
  payload: CommandPayload,
): Omit<CommandPayload, 'secrets'> & { secrets: Record<string, { username: string }> } {
  const secrets: Record<string, { username: string }> = {};
  for (const [ref, secret] of Object.entries(payload.secrets))
    secrets[ref] = { username: secret.username };
  return { ...payload, secrets };
}

export const COMMAND_REFUSALS = [
  'bad-signature',
  'malformed',
  'wrong-agent',
  'expired',
  'issued-in-future',
  'replayed-nonce',
  'approval-missing',
  'approval-mismatch',
  'approval-expired',
  'approval-unexpected',
] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

export interface BindingContext {
  agentId: string;
  siteId: string;
  now: Date;
  /** Clock skew tolerated between server and agent. */
  skewMs?: number;
}

export interface BindingFailure {
  refusal: CommandRefusal;
  message: string;
}

/**
 * The binding checks an agent makes after the signature verifies: the command is addressed to it,
 * within its validity window, and a destructive verb carries an approval for exactly this serial,
 * action, site and agent that has not expired. Returns null when the command may run.
 */
export function checkCommandBinding(
  payload: CommandPayload,
  context: BindingContext,
): BindingFailure | null {
  const skew = context.skewMs ?? 60_000;
  const now = context.now.getTime();
  if (payload.agentId !== context.agentId || payload.siteId !== context.siteId) {
    return {
      refusal: 'wrong-agent',
      message: 'The command is addressed to another agent or site.',
    };
  }
  if (Date.parse(payload.expiresAt) <= now) {
    return { refusal: 'expired', message: `The command expired at ${payload.expiresAt}.` };
  }
  if (Date.parse(payload.issuedAt) > now + skew) {
    return {
      refusal: 'issued-in-future',
      message: 'The command was issued in the future; check the clocks.',
    };
  }
  const { approval } = payload;
  if (!isDestructiveVerb(payload.verb)) {
    // An approval on a harmless verb is not dangerous in itself, but it means the server and agent
    // disagree about what is destructive, which must be looked at rather than ignored.
    return approval === null
      ? null
      : {
          refusal: 'approval-unexpected',
          message: `A ${payload.verb} command does not take an approval.`,
        };
  }
  if (approval === null) {
    return {
      refusal: 'approval-missing',
      message: `A ${payload.verb} command needs an owner's approval.`,
    };
  }
  const mismatched = [
    approval.action === payload.verb ? null : 'action',
    approval.serial === payload.serial ? null : 'serial',
    approval.siteId === payload.siteId ? null : 'site',
    approval.agentId === payload.agentId ? null : 'agent',
  ].filter((field) => field !== null);
  if (mismatched.length > 0) {
    return {
      refusal: 'approval-mismatch',
      message: `The approval was given for a different ${mismatched.join(', ')}.`,
    };
  }
  if (Date.parse(approval.expiresAt) <= now) {
    return {
      refusal: 'approval-expired',
      message: `The approval expired at ${approval.expiresAt}.`,
    };
  }
  return null;
}
