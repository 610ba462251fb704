import { describe, expect, it } from 'vitest';
import { isSameGateway } from './agent-session.ts';

describe('isSameGateway', () => {
  it('accepts the URL of the host and port this server was reached at', () => {
    expect(isSameGateway('wss://custody.example.com/agent/v1', 'custody.example.com')).toBe(true);
    expect(isSameGateway('wss://custody.example.com:443/agent/v1', 'Custody.Example.com')).toBe(
      true,
    );
    expect(isSameGateway('ws://127.0.0.1:3000/agent/v1', '127.0.0.1:3000')).toBe(true);
    expect(isSameGateway('ws://[::1]:3000/agent/v1', '[::1]:3000')).toBe(true);
  });

  it('refuses a URL signed for another host, port or path, or a request without a Host', () => {
    expect(isSameGateway('wss://impostor.example/agent/v1', 'custody.example.com')).toBe(false);
    expect(isSameGateway('ws://127.0.0.1:3001/agent/v1', '127.0.0.1:3000')).toBe(false);
    expect(isSameGateway('ws://127.0.0.1:3000/other', '127.0.0.1:3000')).toBe(false);
    expect(isSameGateway('ws://127.0.0.1:3000/agent/v1', undefined)).toBe(false);
    expect(isSameGateway('ws://127.0.0.1:3000/agent/v1', 'a b')).toBe(false);
  });
});
