import { generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authSigningText, commandSigningText } from './signing.ts';

const PAYLOAD = {
  commandId: '7f1a3b5c-9d2e-4f60-a1b3-c5d7e9f0a2b4',
  agentId: '2b7e1c4a-9d3f-4a61-8e25-7c0d9b4f1a36',
  siteId: '5c9d2e71-3a8b-4f06-b1d4-6e2a8c7f0b59',
  serial: 'ACCC8E012345',
  verb: 'rotate-credential',
  params: { credential: 'admin', next: 'admin-next' },
  secrets: {
    admin: { username: 'root', password: 'old-example-only' },
    'admin-next': { username: 'root', password: 'new-example-only' },
  },
  approval: null,
  issuedAt: '2031-04-02T09:59:30Z',
  expiresAt: '2031-04-02T10:05:00Z',
  nonce: 'q83vEjRWeJASNFZ4kBI0Vg',
};

const BINDING = {
  agentId: '2b7e1c4a-9d3f-4a61-8e25-7c0d9b4f1a36',
  nonce: 'Jq8cWlq2tYc1Lx0fQ7uX9w',
  gatewayUrl: 'wss://custody.example.com/agent/v1',
};

/** Every path to a leaf (a string, number, boolean or null) in a JSON value. */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [path];
  return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...path, key]));
}

function withLeafChanged(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return typeof value === 'string' ? `${value}x` : 'changed';
  const [key, ...rest] = path as [string, ...string[]];
  const copy = { ...(value as Record<string, unknown>) };
  copy[key] = withLeafChanged(copy[key], rest);
  return copy;
}

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reversedKeys(item)]),
  );
}

describe('commandSigningText', () => {
  it('is a purpose line followed by the canonical JSON of the payload', () => {
    const text = commandSigningText({ b: 1, a: [true, null] });
    expect(text).toBe('custody-command-v1\n{"a":[true,null],"b":1}');
  });

  it('does not depend on the order of keys, at any depth', () => {
    expect(JSON.stringify(reversedKeys(PAYLOAD))).not.toBe(JSON.stringify(PAYLOAD));
    expect(commandSigningText(reversedKeys(PAYLOAD))).toBe(commandSigningText(PAYLOAD));
  });

  it('is the same for the payload the server built and the payload the agent parsed from JSON', () => {
    const received: unknown = JSON.parse(JSON.stringify(PAYLOAD, null, 2));
    expect(commandSigningText(received)).toBe(commandSigningText(PAYLOAD));
  });

  it('changes when any value in the payload changes, secrets included', () => {
    const original = commandSigningText(PAYLOAD);
    const paths = leafPaths(PAYLOAD);
    expect(paths).toContainEqual(['secrets', 'admin-next', 'password']);
    for (const path of paths) {
      expect(commandSigningText(withLeafChanged(PAYLOAD, path)), path.join('.')).not.toBe(original);
    }
  });

  it('changes when a field is added or removed', () => {
    const { approval: _approval, ...withoutApproval } = PAYLOAD;
    expect(commandSigningText(withoutApproval)).not.toBe(commandSigningText(PAYLOAD));
    expect(commandSigningText({ ...PAYLOAD, url: 'http://10.0.0.9/' })).not.toBe(
      commandSigningText(PAYLOAD),
    );
  });

  it('signs and verifies with Ed25519 over UTF-8, and a swapped password fails verification', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const signature = sign(null, Buffer.from(commandSigningText(PAYLOAD), 'utf8'), privateKey);
    const received: unknown = JSON.parse(JSON.stringify(PAYLOAD));
    const tampered = withLeafChanged(PAYLOAD, ['secrets', 'admin-next', 'password']);
    expect(verify(null, Buffer.from(commandSigningText(received)), publicKey, signature)).toBe(
      true,
    );
    expect(verify(null, Buffer.from(commandSigningText(tampered)), publicKey, signature)).toBe(
      false,
    );
  });
});

describe('authSigningText', () => {
  it('is a purpose line followed by the canonical JSON of agent id, nonce and gateway URL', () => {
    expect(authSigningText(BINDING)).toBe(
      'custody-agent-auth-v1\n{"agentId":"2b7e1c4a-9d3f-4a61-8e25-7c0d9b4f1a36","gatewayUrl":"wss://custody.example.com/agent/v1","nonce":"Jq8cWlq2tYc1Lx0fQ7uX9w"}',
    );
  });

  it.each(['agentId', 'nonce', 'gatewayUrl'] as const)('changes when the %s changes', (field) => {
    expect(authSigningText({ ...BINDING, [field]: `${BINDING[field]}x` })).not.toBe(
      authSigningText(BINDING),
    );
  });

  it('binds the gateway URL, so a challenge answered for another server does not verify here', () => {
    const relayed = { ...BINDING, gatewayUrl: 'wss://attacker.example.net/agent/v1' };
    expect(authSigningText(relayed)).not.toBe(authSigningText(BINDING));
  });

  it('signs only the three bound fields, whatever else the caller passes', () => {
    const hello = { ...BINDING, type: 'hello', signature: 'ignored', protocolVersions: [1] };
    expect(authSigningText(hello)).toBe(authSigningText(BINDING));
  });
});

describe('purpose lines', () => {
  it('keep an auth text from ever equalling a command text, even for the same object', () => {
    expect(commandSigningText(BINDING)).not.toBe(authSigningText(BINDING));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const command = commandSigningText(value);
        // Canonical JSON escapes newlines inside strings, so the first line is always the purpose.
        expect(command.split('\n')).toHaveLength(2);
        expect(command.split('\n')[0]).toBe('custody-command-v1');
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (agentId, nonce, gatewayUrl) => {
        const auth = authSigningText({ agentId, nonce, gatewayUrl });
        expect(auth.split('\n')).toHaveLength(2);
        expect(auth.split('\n')[0]).toBe('custody-agent-auth-v1');
      }),
    );
  });
});
