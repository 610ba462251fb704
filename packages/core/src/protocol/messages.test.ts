import { describe, expect, it } from 'vitest';
import {
  AgentMessageSchema,
  CLOSE_CODES,
  CameraSightingSchema,
  DURABLE_AGENT_MESSAGE_TYPES,
  EnrollRequestSchema,
  EnrollResponseSchema,
  MAX_CAMERAS_PER_FRAME,
  ServerMessageSchema,
} from './messages.ts';
import type { AgentMessageType, ServerMessageType } from './messages.ts';

const AGENT_ID = '2b7e1c4a-9d3f-4a61-8e25-7c0d9b4f1a36';
const SITE_ID = '5c9d2e71-3a8b-4f06-b1d4-6e2a8c7f0b59';
const COMMAND_ID = '7f1a3b5c-9d2e-4f60-a1b3-c5d7e9f0a2b4';
const SNAPSHOT_ID = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const PUBLIC_KEY = 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=';
const SIGNATURE = `${'A'.repeat(85)}Q==`;

let counter = 0;
function envelope<T extends string>(type: T) {
  counter += 1;
  const id = `0e5d7c3a-1f2b-4d8e-9a6c-${counter.toString(16).padStart(12, '0')}`;
  return { v: 1, id, type, sentAt: '2031-04-02T10:00:00.000Z' };
}

const SIGHTING = {
  serial: 'ACCC8E012345',
  url: 'http://10.20.0.21/',
  address: '10.20.0.21',
  source: 'ssdp',
  model: 'M3086-V',
  productName: 'AXIS M3086-V Dome Camera',
  firmware: '11.11.73',
  hardwareId: '9A1.1',
  mac: 'AC:CC:8E:01:23:45',
  accessState: 'authenticated',
  seenAt: '2031-04-02T09:59:58Z',
};

const AGENT_EXAMPLES = {
  hello: {
    ...envelope('hello'),
    agentId: AGENT_ID,
    protocolVersions: [1],
    agentVersion: '0.4.0',
    capabilities: { verbs: ['probe', 'verify'], discovery: ['ssdp', 'mdns', 'scan'] },
    gatewayUrl: 'wss://custody.example.com/agent/v1',
    signature: SIGNATURE,
  },
  heartbeat: { ...envelope('heartbeat'), outboxDepth: 0, runningCommands: 1 },
  'inventory-snapshot': {
    ...envelope('inventory-snapshot'),
    snapshotId: SNAPSHOT_ID,
    part: 1,
    parts: 1,
    cameras: [SIGHTING],
  },
  'inventory-delta': {
    ...envelope('inventory-delta'),
    upserts: [{ ...SIGHTING, model: null, firmware: null, accessState: null }],
    lost: ['ACCC8E0A0B0C'],
  },
  'discovery-event': {
    ...envelope('discovery-event'),
    event: 'address-changed',
    serial: 'ACCC8E012345',
    url: 'http://169.254.12.7/',
    previousUrl: 'http://10.20.0.21/',
    via: 'link-local',
  },
  'command-ack': { ...envelope('command-ack'), commandId: COMMAND_ID },
  'command-progress': {
    ...envelope('command-progress'),
    commandId: COMMAND_ID,
    step: 'waiting-for-device',
    message: 'Waiting for ACCC8E012345 to come back in factory-default state.',
    fraction: 0.4,
  },
  'command-result': {
    ...envelope('command-result'),
    commandId: COMMAND_ID,
    outcome: 'succeeded',
    result: { accessState: 'authenticated', evidence: [{ check: 'snapshot-jpeg', bytes: 48213 }] },
    error: null,
    replayed: false,
  },
  error: {
    ...envelope('error'),
    code: 'invalid-message',
    message: 'Invalid "command" message: signature: Invalid string',
    refId: COMMAND_ID,
  },
} satisfies Record<AgentMessageType, unknown>;

const SERVER_EXAMPLES = {
  challenge: { ...envelope('challenge'), nonce: 'Jq8cWlq2tYc1Lx0fQ7uX9w', protocolVersions: [1] },
  welcome: {
    ...envelope('welcome'),
    agentId: AGENT_ID,
    protocolVersion: 1,
    heartbeatIntervalMs: 30_000,
    serverTime: '2031-04-02T10:00:00.120Z',
  },
  ack: { ...envelope('ack'), ids: [COMMAND_ID, SNAPSHOT_ID] },
  command: {
    ...envelope('command'),
    payload: { commandId: COMMAND_ID, verb: 'probe' },
    signature: SIGNATURE,
  },
  heartbeat: { ...envelope('heartbeat'), serverTime: '2031-04-02T10:00:30Z' },
  error: {
    ...envelope('error'),
    code: 'auth-failed',
    message: 'The hello signature does not verify.',
    fatal: true,
  },
} satisfies Record<ServerMessageType, unknown>;

type Schema = typeof AgentMessageSchema | typeof ServerMessageSchema;
const DIRECTIONS: Array<[string, Schema, Record<string, Record<string, unknown>>]> = [
  ['agent', AgentMessageSchema, AGENT_EXAMPLES],
  ['server', ServerMessageSchema, SERVER_EXAMPLES],
];

function refusedPaths(schema: Schema, message: unknown): string[] {
  const result = schema.safeParse(message);
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => issue.path.join('.'));
}

describe.each(DIRECTIONS)('%s messages', (_direction, schema, examples) => {
  const cases = Object.entries(examples);

  it.each(cases)('accepts a well-formed %s', (type, message) => {
    const parsed = schema.parse(message);
    expect(parsed.type).toBe(type);
    expect(parsed.id).toBe(message.id);
  });

  it.each(cases)('refuses a %s without an id', (_type, message) => {
    const { id: _id, ...withoutId } = message;
    expect(refusedPaths(schema, withoutId)).toContain('id');
  });

  it.each(cases)('refuses a %s whose id is not a UUID', (_type, message) => {
    expect(refusedPaths(schema, { ...message, id: 'msg-1' })).toContain('id');
  });

  it.each(cases)('refuses a %s whose version is a string', (_type, message) => {
    expect(refusedPaths(schema, { ...message, v: '1' })).toContain('v');
  });

  it.each(cases)('refuses a %s whose version is not a positive integer', (_type, message) => {
    expect(refusedPaths(schema, { ...message, v: 0 })).toContain('v');
    expect(refusedPaths(schema, { ...message, v: 1.5 })).toContain('v');
  });

  it.each(cases)('refuses a %s sent at a time without an offset', (_type, message) => {
    expect(refusedPaths(schema, { ...message, sentAt: '2031-04-02 10:00' })).toContain('sentAt');
  });

  it('refuses an unknown message type', () => {
    const [, message] = cases[0]!;
    expect(refusedPaths(schema, { ...message, type: 'shell' })).toContain('type');
    expect(refusedPaths(schema, { ...message, type: undefined })).toContain('type');
  });

  it('refuses a value that is not an object', () => {
    for (const value of [null, 1, 'hello', []]) expect(schema.safeParse(value).success).toBe(false);
  });
});

describe('agent message bodies', () => {
  const tooMany = (item: unknown, count = MAX_CAMERAS_PER_FRAME + 1) =>
    Array.from({ length: count }, () => item);

  it('refuses more cameras in one frame than the limit, in snapshots and deltas', () => {
    expect(
      refusedPaths(AgentMessageSchema, {
        ...AGENT_EXAMPLES['inventory-snapshot'],
        cameras: tooMany(SIGHTING),
      }),
    ).toContain('cameras');
    expect(
      refusedPaths(AgentMessageSchema, {
        ...AGENT_EXAMPLES['inventory-delta'],
        upserts: tooMany(SIGHTING),
      }),
    ).toContain('upserts');
    expect(
      refusedPaths(AgentMessageSchema, {
        ...AGENT_EXAMPLES['inventory-delta'],
        lost: tooMany('ACCC8E0A0B0C'),
      }),
    ).toContain('lost');
  });

  it('accepts exactly the limit of cameras in one frame', () => {
    const message = { ...AGENT_EXAMPLES['inventory-snapshot'], cameras: tooMany(SIGHTING, 1_000) };
    expect(AgentMessageSchema.safeParse(message).success).toBe(true);
  });

  it('refuses a hello offering too many versions or none, or naming an unknown verb', () => {
    const hello = AGENT_EXAMPLES.hello;
    const versions = Array.from({ length: 11 }, (_, index) => index + 1);
    expect(refusedPaths(AgentMessageSchema, { ...hello, protocolVersions: versions })).toContain(
      'protocolVersions',
    );
    expect(refusedPaths(AgentMessageSchema, { ...hello, protocolVersions: [] })).toContain(
      'protocolVersions',
    );
    expect(
      refusedPaths(AgentMessageSchema, {
        ...hello,
        capabilities: { verbs: ['format-disk'], discovery: [] },
      }),
    ).toContain('capabilities.verbs.0');
  });

  it('refuses a hello whose gateway URL is not a WebSocket URL or whose signature is malformed', () => {
    const hello = AGENT_EXAMPLES.hello;
    expect(
      refusedPaths(AgentMessageSchema, { ...hello, gatewayUrl: 'https://custody.example.com/' }),
    ).toContain('gatewayUrl');
    expect(refusedPaths(AgentMessageSchema, { ...hello, signature: 'c2lnbmF0dXJl' })).toContain(
      'signature',
    );
  });

  it('refuses a snapshot part numbered beyond the number of parts', () => {
    const snapshot = AGENT_EXAMPLES['inventory-snapshot'];
    expect(refusedPaths(AgentMessageSchema, { ...snapshot, part: 3, parts: 2 })).toContain('part');
    expect(AgentMessageSchema.safeParse({ ...snapshot, part: 2, parts: 2 }).success).toBe(true);
  });

  it('refuses a command result with an outcome outside the list or a malformed error code', () => {
    const result = AGENT_EXAMPLES['command-result'];
    expect(refusedPaths(AgentMessageSchema, { ...result, outcome: 'maybe' })).toContain('outcome');
    expect(
      refusedPaths(AgentMessageSchema, {
        ...result,
        outcome: 'failed',
        result: null,
        error: { code: 'Interrupted!', message: 'x' },
      }),
    ).toContain('error.code');
  });

  it('accepts a failed command result that carries an error and no result', () => {
    const message = {
      ...AGENT_EXAMPLES['command-result'],
      outcome: 'failed',
      result: null,
      error: { code: 'interrupted', message: 'The agent restarted while the command ran.' },
      replayed: true,
    };
    expect(AgentMessageSchema.parse(message)).toMatchObject({ outcome: 'failed', replayed: true });
  });

  it('refuses a progress fraction outside 0..1 and an error message over 2,000 characters', () => {
    expect(
      refusedPaths(AgentMessageSchema, { ...AGENT_EXAMPLES['command-progress'], fraction: 1.5 }),
    ).toContain('fraction');
    expect(
      refusedPaths(AgentMessageSchema, { ...AGENT_EXAMPLES.error, message: 'x'.repeat(2_001) }),
    ).toContain('message');
  });

  it('tells the two heartbeats apart by their bodies', () => {
    expect(AgentMessageSchema.safeParse(SERVER_EXAMPLES.heartbeat).success).toBe(false);
    expect(ServerMessageSchema.safeParse(AGENT_EXAMPLES.heartbeat).success).toBe(false);
  });
});

describe('server message bodies', () => {
  it('refuses an ack with no ids or more than 10,000', () => {
    const ack = SERVER_EXAMPLES.ack;
    expect(refusedPaths(ServerMessageSchema, { ...ack, ids: [] })).toContain('ids');
    const ids = Array.from({ length: 10_001 }, () => COMMAND_ID);
    expect(refusedPaths(ServerMessageSchema, { ...ack, ids })).toContain('ids');
  });

  it('keeps a command payload exactly as it arrived, for the signature check', () => {
    const payload = { verb: 'probe', extra: { nested: [1, 'two'] }, commandId: COMMAND_ID };
    const parsed = ServerMessageSchema.parse({ ...SERVER_EXAMPLES.command, payload });
    expect(parsed.type === 'command' && parsed.payload).toEqual(payload);
  });

  it('refuses a challenge with a short nonce and an error without its fatal flag', () => {
    expect(
      refusedPaths(ServerMessageSchema, { ...SERVER_EXAMPLES.challenge, nonce: 'abc' }),
    ).toContain('nonce');
    const { fatal: _fatal, ...withoutFatal } = SERVER_EXAMPLES.error;
    expect(refusedPaths(ServerMessageSchema, withoutFatal)).toContain('fatal');
  });

  it('refuses a heartbeat interval below one second or above five minutes', () => {
    for (const heartbeatIntervalMs of [999, 300_001]) {
      expect(
        refusedPaths(ServerMessageSchema, { ...SERVER_EXAMPLES.welcome, heartbeatIntervalMs }),
      ).toContain('heartbeatIntervalMs');
    }
  });
});

describe('CameraSightingSchema', () => {
  it('normalises the serial and accepts an IPv6 address', () => {
    const sighting = CameraSightingSchema.parse({
      ...SIGHTING,
      serial: 'accc8e-01:23:45',
      address: 'fe80::aecc:8eff:fe01:2345',
      source: 'mdns',
    });
    expect(sighting.serial).toBe('ACCC8E012345');
  });

  it('refuses a camera URL that is not http or https', () => {
    expect(CameraSightingSchema.safeParse({ ...SIGHTING, url: 'rtsp://10.20.0.21/' }).success).toBe(
      false,
    );
  });
});

describe('DURABLE_AGENT_MESSAGE_TYPES', () => {
  it('covers what must survive a reconnect and leaves out the connection chatter', () => {
    expect(DURABLE_AGENT_MESSAGE_TYPES).toContain('command-result');
    expect(DURABLE_AGENT_MESSAGE_TYPES).toContain('inventory-snapshot');
    for (const type of ['hello', 'heartbeat', 'error'] as const) {
      expect(DURABLE_AGENT_MESSAGE_TYPES).not.toContain(type);
    }
    for (const type of DURABLE_AGENT_MESSAGE_TYPES) expect(AGENT_EXAMPLES).toHaveProperty(type);
  });
});

describe('CLOSE_CODES', () => {
  it('are distinct and in the application range 4000-4999', () => {
    const codes = Object.values(CLOSE_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toBeGreaterThanOrEqual(4_000);
      expect(code).toBeLessThan(5_000);
    }
  });
});

describe('enrollment', () => {
  const request = {
    token: 'enr_4f9b1c7e2a8d4c60b3e5',
    publicKey: PUBLIC_KEY,
    name: 'site-gw-01',
    agentVersion: '0.4.0',
  };
  const response = {
    agentId: AGENT_ID,
    siteId: SITE_ID,
    commandSigningKey: PUBLIC_KEY,
    gatewayUrl: 'wss://custody.example.com/agent/v1',
  };

  it('accepts a well-formed request and response', () => {
    expect(EnrollRequestSchema.parse(request)).toEqual(request);
    expect(EnrollResponseSchema.parse(response)).toEqual(response);
  });

  it('trims the agent name and refuses one that is only whitespace', () => {
    expect(EnrollRequestSchema.parse({ ...request, name: '  gw  ' }).name).toBe('gw');
    expect(EnrollRequestSchema.safeParse({ ...request, name: '   ' }).success).toBe(false);
  });

  it('refuses a short token and a public key that is not Ed25519', () => {
    expect(EnrollRequestSchema.safeParse({ ...request, token: 'short' }).success).toBe(false);
    expect(EnrollRequestSchema.safeParse({ ...request, publicKey: 'AAAA' }).success).toBe(false);
  });

  it('refuses a response whose gateway is not a WebSocket URL', () => {
    const bad = { ...response, gatewayUrl: 'https://custody.example.com/agent/v1' };
    expect(EnrollResponseSchema.safeParse(bad).success).toBe(false);
  });
});
