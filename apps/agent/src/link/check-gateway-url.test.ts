import { describe, expect, it } from 'vitest';
import { checkGatewayUrl } from './check-gateway-url.ts';
import { GatewayLinkError } from './gateway-link-error.ts';
import { isLoopbackHost } from './loopback.ts';

function refusal(raw: string, allowInsecure = false): GatewayLinkError {
  try {
    checkGatewayUrl(raw, { allowInsecure });
  } catch (error) {
    if (error instanceof GatewayLinkError) return error;
    throw error;
  }
  throw new Error(`${raw} was accepted.`);
}

describe('checkGatewayUrl', () => {
  it('accepts wss:// anywhere and plain ws:// to loopback hosts', () => {
    expect(checkGatewayUrl('wss://custody.example.com/agent/v1').host).toBe('custody.example.com');
    for (const raw of [
      'ws://127.0.0.1:8080/agent/v1',
      'ws://127.8.9.10/agent/v1',
      'ws://LOCALHOST:3000/agent/v1',
      'ws://[::1]:3000/agent/v1',
    ]) {
      expect(checkGatewayUrl(raw).protocol).toBe('ws:');
    }
  });

  it('refuses plain ws:// to any other host unless insecure connections are allowed', () => {
    for (const raw of ['ws://10.0.0.5/agent/v1', 'ws://gateway.lan/agent/v1', 'ws://128.0.0.1/']) {
      expect(refusal(raw).code).toBe('insecure-gateway-url');
    }
    expect(checkGatewayUrl('ws://10.0.0.5/agent/v1', { allowInsecure: true }).host).toBe(
      '10.0.0.5',
    );
  });

  it('refuses other schemes, non-URLs, and credentials without echoing them', () => {
    expect(refusal('https://custody.example.com/agent/v1').code).toBe('invalid-gateway-url');
    expect(refusal('not a url').code).toBe('invalid-gateway-url');
    const withSecret = refusal('wss://agent:hunter2@custody.example.com/agent/v1');
    expect(withSecret.code).toBe('invalid-gateway-url');
    expect(withSecret.message).not.toContain('hunter2');
  });

  it('treats only localhost, 127.0.0.0/8 and ::1 as loopback', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.example.com')).toBe(false);
    expect(isLoopbackHost('192.168.0.90')).toBe(false);
  });
});
