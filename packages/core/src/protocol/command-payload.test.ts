import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COMMAND_VERBS, isDestructiveVerb } from '../command-verb.ts';
import type { CommandVerb } from '../command-verb.ts';
import {
  COMMAND_REFUSALS,
  CommandParamsSchemas,
  CommandPayloadSchema,
  checkCommandBinding,
  credentialRefsOf,
  paramsOf,
  redactCommand,
} from './command-payload.ts';
import type {
  ApprovalBinding,
  BindingContext,
  CommandPayload,
  CommandRefusal,
} from './command-payload.ts';

const AGENT_ID = '2b7e1c4a-9d3f-4a61-8e25-7c0d9b4f1a36';
const SITE_ID = '5c9d2e71-3a8b-4f06-b1d4-6e2a8c7f0b59';
const OTHER_ID = '9a4f0c3e-1b6d-4e28-a7c5-3d8e2f1b6a04';
const GRANT_ID = 'd3e8a1b6-7c2f-4950-8b3e-1f6a9c0d2e47';
const COMMAND_ID = '7f1a3b5c-9d2e-4f60-a1b3-c5d7e9f0a2b4';
const SERIAL = 'ACCC8E012345';
const NOW = new Date('2031-04-02T10:00:00Z');
const PASSWORD = 'Vq3-example-only-!xZ9';

const VALID_PARAMS = {
  probe: { credential: 'admin' },
  'test-credential': { credentials: ['admin', 'installer'] },
  'rotate-credential': { credential: 'admin', next: 'admin-next' },
  'soft-restart': { credential: 'admin' },
  'factory-default-soft': { credential: 'admin' },
  'factory-default-hard': { credential: 'admin' },
  'watch-for-device': { timeoutMs: 180_000, candidateUrls: ['http://192.168.0.90/'] },
  provision: {
    admin: 'admin-next',
    serviceAccount: 'service',
    vmsAccount: 'vms',
    network: {
      mode: 'static',
      address: '10.20.0.21',
      prefixLength: 24,
      gateway: '10.20.0.1',
      dns: ['10.20.0.2'],
    },
    time: { timezone: 'Europe/Stockholm', ntpServers: ['ntp.example.net'] },
  },
  verify: {
    credential: 'admin-next',
    oldCredential: 'admin',
    vmsCredential: 'vms',
    expectedUrl: 'http://10.20.0.21/',
    checks: ['serial-at-address', 'new-credential-works', 'old-credential-fails'],
  },
} satisfies Record<CommandVerb, unknown>;

const INVALID_PARAMS: Record<CommandVerb, { params: unknown; path: string }> = {
  probe: { params: { credential: 'Admin' }, path: 'params.credential' },
  'test-credential': { params: { credentials: [] }, path: 'params.credentials' },
  'rotate-credential': { params: { credential: 'admin' }, path: 'params.next' },
  'soft-restart': { params: {}, path: 'params.credential' },
  'factory-default-soft': { params: { credential: 7 }, path: 'params.credential' },
  'factory-default-hard': { params: { credential: '' }, path: 'params.credential' },
  'watch-for-device': { params: { timeoutMs: 999 }, path: 'params.timeoutMs' },
  provision: {
    params: { admin: 'admin', serviceAccount: 'service', network: { mode: 'bootp' } },
    path: 'params.network.mode',
  },
  verify: { params: { credential: 'admin', checks: [] }, path: 'params.checks' },
};

function approvalFor(overrides: Partial<ApprovalBinding> = {}): ApprovalBinding {
  return {
    grantId: GRANT_ID,
    action: 'factory-default-soft',
    serial: SERIAL,
    siteId: SITE_ID,
    agentId: AGENT_ID,
    expiresAt: '2031-04-02T11:00:00Z',
    ...overrides,
  };
}

/** A raw payload as it arrives on the wire, with every referenced credential delivered. */
function rawCommand(verb: CommandVerb, overrides: Record<string, unknown> = {}) {
  const params = VALID_PARAMS[verb];
  const secrets: Record<string, { username: string; password: string }> = {};
  for (const ref of credentialRefsOf(verb, params)) {
    secrets[ref] = { username: `user-${ref}`, password: `${PASSWORD}-${ref}` };
  }
  return {
    commandId: COMMAND_ID,
    agentId: AGENT_ID,
    siteId: SITE_ID,
    serial: SERIAL,
    url: 'http://10.20.0.21/',
    verb,
    params,
    secrets,
    approval: isDestructiveVerb(verb) ? approvalFor({ action: verb }) : null,
    issuedAt: '2031-04-02T09:59:30Z',
    expiresAt: '2031-04-02T10:05:00Z',
    nonce: 'q83vEjRWeJASNFZ4kBI0Vg',
    ...overrides,
  };
}

function commandPayload<V extends CommandVerb>(
  verb: V,
  overrides: Record<string, unknown> = {},
): CommandPayload & { verb: V } {
  return CommandPayloadSchema.parse(rawCommand(verb, overrides)) as CommandPayload & { verb: V };
}

function issuePaths(input: unknown): string[] {
  const result = CommandPayloadSchema.safeParse(input);
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => issue.path.join('.'));
}

describe('CommandPayloadSchema', () => {
  it.each(COMMAND_VERBS)('accepts a well-formed %s command', (verb) => {
    const payload = commandPayload(verb);
    expect(payload.verb).toBe(verb);
    expect(payload.params).toEqual(VALID_PARAMS[verb]);
  });

  it.each(COMMAND_VERBS)(
    'refuses a %s command whose params are wrong, naming the field',
    (verb) => {
      const { params, path } = INVALID_PARAMS[verb];
      expect(issuePaths(rawCommand(verb, { params }))).toContain(path);
    },
  );

  it('refuses oversized parameter lists', () => {
    const refs = Array.from({ length: 11 }, (_, index) => `cred-${index}`);
    expect(issuePaths(rawCommand('test-credential', { params: { credentials: refs } }))).toContain(
      'params.credentials',
    );
    const urls = Array.from({ length: 17 }, (_, index) => `http://10.0.0.${index}/`);
    expect(
      issuePaths(
        rawCommand('watch-for-device', { params: { timeoutMs: 60_000, candidateUrls: urls } }),
      ),
    ).toContain('params.candidateUrls');
  });

  it('accepts a probe without a credential, which reads only what the device shows anonymously', () => {
    expect(commandPayload('probe', { params: {}, secrets: {} }).params).toEqual({});
  });

  it.each([
    ['probe', 'credential'],
    ['rotate-credential', 'next'],
    ['provision', 'serviceAccount'],
    ['provision', 'vmsAccount'],
    ['verify', 'oldCredential'],
    ['verify', 'vmsCredential'],
  ] as const)(
    'refuses a %s command whose %s is referenced but not delivered, at secrets.<ref>',
    (verb, field) => {
      const raw = rawCommand(verb);
      const ref = (raw.params as Record<string, string>)[field]!;
      const { [ref]: _missing, ...secrets } = raw.secrets;
      const result = CommandPayloadSchema.safeParse({ ...raw, secrets });
      expect(result.success).toBe(false);
      expect(result.error?.issues).toEqual([
        expect.objectContaining({
          path: ['secrets', ref],
          message: `The credential "${ref}" is referenced but not delivered.`,
        }),
      ]);
    },
  );

  it('refuses a credential test when one of several references is not delivered', () => {
    const raw = rawCommand('test-credential');
    expect(issuePaths({ ...raw, secrets: { admin: raw.secrets.admin } })).toEqual([
      'secrets.installer',
    ]);
  });

  it('does not take an inherited property for a delivered credential', () => {
    // "constructor" is a well-formed reference and every object inherits a property of that name.
    const raw = rawCommand('soft-restart', { params: { credential: 'constructor' }, secrets: {} });
    expect(issuePaths(raw)).toEqual(['secrets.constructor']);
  });

  it('refuses an unknown verb without throwing', () => {
    expect(issuePaths(rawCommand('probe', { verb: 'format-disk' }))).toContain('verb');
  });

  it('refuses a command with no nonce, a bad serial or a time without an offset', () => {
    const { nonce: _nonce, ...withoutNonce } = rawCommand('probe');
    expect(issuePaths(withoutNonce)).toContain('nonce');
    expect(issuePaths(rawCommand('probe', { serial: 'camera-1' }))).toContain('serial');
    expect(issuePaths(rawCommand('probe', { issuedAt: '2031-04-02 09:59' }))).toContain('issuedAt');
  });

  it('normalises the serial it is given', () => {
    expect(commandPayload('probe', { serial: 'ac:cc:8e:01:23:45' }).serial).toBe(SERIAL);
  });

  it('never echoes a password in the error for a malformed secret', () => {
    const secret = `${'x'.repeat(300)}-do-not-echo-7Qm`;
    const cases = [
      { admin: { username: 'root', password: secret } },
      { admin: { password: secret } },
      { admin: { username: 'not a user name', password: secret } },
      { admin: { username: 'root', password: secret, extra: secret } },
      { admin: secret },
    ];
    for (const secrets of cases) {
      const result = CommandPayloadSchema.safeParse(rawCommand('soft-restart', { secrets }));
      expect(result.success).toBe(false);
      if (result.success) continue;
      for (const text of [
        result.error.message,
        String(result.error),
        JSON.stringify(result.error),
        JSON.stringify(result.error.issues),
        z.prettifyError(result.error),
      ]) {
        expect(text).not.toContain('do-not-echo');
      }
    }
  });
});

describe('credentialRefsOf', () => {
  it('lists every credential a verb names, in a fixed order', () => {
    expect(credentialRefsOf('rotate-credential', VALID_PARAMS['rotate-credential'])).toEqual([
      'admin',
      'admin-next',
    ]);
    expect(credentialRefsOf('provision', VALID_PARAMS.provision)).toEqual([
      'admin-next',
      'service',
      'vms',
    ]);
    expect(credentialRefsOf('verify', VALID_PARAMS.verify)).toEqual(['admin-next', 'admin', 'vms']);
    expect(credentialRefsOf('test-credential', VALID_PARAMS['test-credential'])).toEqual([
      'admin',
      'installer',
    ]);
    expect(credentialRefsOf('watch-for-device', VALID_PARAMS['watch-for-device'])).toEqual([]);
  });

  it('names nothing when the parameters do not parse', () => {
    expect(credentialRefsOf('soft-restart', { credential: 'Bad Ref' })).toEqual([]);
  });

  it('names the previous password of a rotated account that is not the admin’s own', () => {
    const params = { credential: 'admin', next: 'vms-next', previous: 'vms' };
    expect(credentialRefsOf('rotate-credential', params)).toEqual(['admin', 'vms-next', 'vms']);
    const secrets = {
      admin: { username: 'root', password: `${PASSWORD}-admin` },
      'vms-next': { username: 'vms', password: `${PASSWORD}-next` },
    };
    expect(issuePaths(rawCommand('rotate-credential', { params, secrets }))).toEqual([
      'secrets.vms',
    ]);
  });
});

describe('paramsOf', () => {
  it('returns the verb parameters with their defaults applied', () => {
    const watch = paramsOf(commandPayload('watch-for-device', { params: { timeoutMs: 60_000 } }));
    expect(watch).toEqual({ timeoutMs: 60_000, candidateUrls: [], requireFactoryDefault: true });
    const provision = paramsOf(
      commandPayload('provision', {
        params: {
          admin: 'admin-next',
          serviceAccount: 'service',
          network: { mode: 'static', address: '10.0.0.5', prefixLength: 24, gateway: '10.0.0.1' },
          time: { timezone: 'UTC' },
        },
      }),
    );
    expect(provision.network).toEqual({
      mode: 'static',
      address: '10.0.0.5',
      prefixLength: 24,
      gateway: '10.0.0.1',
      dns: [],
    });
    expect(provision.time).toEqual({ timezone: 'UTC', ntpServers: [] });
  });

  it('leaves the payload params as they arrived, so the signed text is unchanged', () => {
    const payload = commandPayload('watch-for-device', { params: { timeoutMs: 60_000 } });
    paramsOf(payload);
    expect(payload.params).toEqual({ timeoutMs: 60_000 });
  });
});

describe('CommandParamsSchemas', () => {
  it('has a schema for every verb and no other', () => {
    expect(Object.keys(CommandParamsSchemas).sort()).toEqual([...COMMAND_VERBS].sort());
  });
});

describe('redactCommand', () => {
  it('keeps every user name and drops every password', () => {
    const payload = commandPayload('provision');
    const redacted = redactCommand(payload);
    expect(redacted.secrets).toEqual({
      'admin-next': { username: 'user-admin-next' },
      service: { username: 'user-service' },
      vms: { username: 'user-vms' },
    });
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('password');
  });

  it('keeps everything else and leaves the original untouched', () => {
    const payload = commandPayload('rotate-credential');
    const redacted = redactCommand(payload);
    const { secrets: _secrets, ...rest } = payload;
    expect(redacted).toMatchObject(rest);
    expect(payload.secrets.admin?.password).toBe(`${PASSWORD}-admin`);
  });
});

describe('checkCommandBinding', () => {
  const context = { agentId: AGENT_ID, siteId: SITE_ID, now: NOW };

  function refusalOf(
    payload: CommandPayload,
    ctx: BindingContext = context,
  ): CommandRefusal | null {
    return checkCommandBinding(payload, ctx)?.refusal ?? null;
  }

  it('lets a destructive command with a matching, unexpired approval run', () => {
    expect(checkCommandBinding(commandPayload('factory-default-soft'), context)).toBeNull();
    expect(checkCommandBinding(commandPayload('factory-default-hard'), context)).toBeNull();
  });

  it('lets a harmless command without an approval run', () => {
    for (const verb of COMMAND_VERBS.filter((verb) => !isDestructiveVerb(verb))) {
      expect(checkCommandBinding(commandPayload(verb), context)).toBeNull();
    }
  });

  it('refuses a command addressed to another agent or another site', () => {
    expect(refusalOf(commandPayload('probe', { agentId: OTHER_ID }))).toBe('wrong-agent');
    expect(refusalOf(commandPayload('probe'), { ...context, siteId: OTHER_ID })).toBe(
      'wrong-agent',
    );
  });

  it('refuses a command at or after its expiry', () => {
    expect(refusalOf(commandPayload('probe', { expiresAt: '2031-04-02T10:00:00Z' }))).toBe(
      'expired',
    );
    const failure = checkCommandBinding(
      commandPayload('probe', { expiresAt: '2031-04-02T09:00:00Z' }),
      context,
    );
    expect(failure?.message).toContain('2031-04-02T09:00:00Z');
  });

  it('tolerates a minute of clock skew by default and refuses a command issued further ahead', () => {
    expect(refusalOf(commandPayload('probe', { issuedAt: '2031-04-02T10:00:59Z' }))).toBeNull();
    expect(refusalOf(commandPayload('probe', { issuedAt: '2031-04-02T10:01:01Z' }))).toBe(
      'issued-in-future',
    );
    expect(
      refusalOf(commandPayload('probe', { issuedAt: '2031-04-02T10:00:01Z' }), {
        ...context,
        skewMs: 0,
      }),
    ).toBe('issued-in-future');
  });

  it('refuses a destructive command without an approval', () => {
    expect(refusalOf(commandPayload('factory-default-hard', { approval: null }))).toBe(
      'approval-missing',
    );
  });

  it.each([
    ['action', { action: 'factory-default-hard' }],
    ['action', { action: 'guided-button-reset' }],
    ['serial', { serial: 'ACCC8E999999' }],
    ['site', { siteId: OTHER_ID }],
    ['agent', { agentId: OTHER_ID }],
  ] as const)('refuses an approval given for a different %s', (field, override) => {
    const failure = checkCommandBinding(
      commandPayload('factory-default-soft', { approval: approvalFor(override) }),
      context,
    );
    expect(failure?.refusal).toBe('approval-mismatch');
    expect(failure?.message).toContain(field);
  });

  it('names every field an approval disagrees on', () => {
    const failure = checkCommandBinding(
      commandPayload('factory-default-soft', {
        approval: approvalFor({ serial: 'ACCC8E999999', agentId: OTHER_ID }),
      }),
      context,
    );
    expect(failure?.message).toBe('The approval was given for a different serial, agent.');
  });

  it('refuses a destructive command whose approval has expired', () => {
    const payload = commandPayload('factory-default-soft', {
      approval: approvalFor({ expiresAt: '2031-04-02T09:59:59Z' }),
    });
    expect(refusalOf(payload)).toBe('approval-expired');
  });

  it('refuses a harmless command that carries an approval, because the two sides disagree', () => {
    expect(refusalOf(commandPayload('soft-restart', { approval: approvalFor() }))).toBe(
      'approval-unexpected',
    );
  });

  it('checks the address before the clock, and the clock before the approval', () => {
    const payload = commandPayload('factory-default-soft', {
      agentId: OTHER_ID,
      expiresAt: '2031-04-02T09:00:00Z',
      approval: null,
    });
    expect(refusalOf(payload)).toBe('wrong-agent');
    expect(refusalOf({ ...payload, agentId: AGENT_ID })).toBe('expired');
  });

  it('only returns refusal codes from the published list', () => {
    const reached = new Set<CommandRefusal>([
      'wrong-agent',
      'expired',
      'issued-in-future',
      'approval-missing',
      'approval-mismatch',
      'approval-expired',
      'approval-unexpected',
    ]);
    for (const code of reached) expect(COMMAND_REFUSALS).toContain(code);
    // The rest belong to the steps around the binding check: signature, parsing, nonce journal.
    expect(COMMAND_REFUSALS.filter((code) => !reached.has(code)).sort()).toEqual([
      'bad-signature',
      'malformed',
      'replayed-nonce',
    ]);
  });
});
