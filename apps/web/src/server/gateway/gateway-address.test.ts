import { describe, expect, it } from 'vitest';
import { forwardedTls, namesThisGateway, requestedHost } from './gateway-address.ts';

const DIRECT = { trustProxy: false, publicOrigins: [] };
const PROXIED = { trustProxy: true, publicOrigins: [] };

describe('the relay check behind a reverse proxy', () => {
  const proxied = { host: '10.0.0.5:3000', 'x-forwarded-host': 'custody.example.com' };

  it('honours the first X-Forwarded-Host when the proxy is trusted', () => {
    const url = 'wss://custody.example.com/agent/v1';
    expect(namesThisGateway(url, proxied, PROXIED)).toBe(true);
    const list = { host: '10.0.0.5:3000', 'x-forwarded-host': 'custody.example.com, evil.test' };
    expect(namesThisGateway(url, list, PROXIED)).toBe(true);
    expect(namesThisGateway('wss://evil.test/agent/v1', list, PROXIED)).toBe(false);
  });

  it('ignores X-Forwarded-Host when no proxy is trusted, so a relay cannot claim its own host', () => {
    const relayed = { host: 'custody.example.com', 'x-forwarded-host': 'impostor.example' };
    expect(namesThisGateway('wss://impostor.example/agent/v1', relayed, DIRECT)).toBe(false);
    expect(namesThisGateway('wss://custody.example.com/agent/v1', proxied, DIRECT)).toBe(false);
    expect(namesThisGateway('ws://10.0.0.5:3000/agent/v1', proxied, DIRECT)).toBe(true);
  });

  it('refuses a forwarded value that is not a plain host', () => {
    const odd = { host: '10.0.0.5:3000', 'x-forwarded-host': 'custody.example.com/x y' };
    expect(namesThisGateway('wss://custody.example.com/agent/v1', odd, PROXIED)).toBe(false);
    expect(requestedHost(odd, PROXIED)).toBeUndefined();
  });
});

describe('the relay check against the public URL', () => {
  const options = { trustProxy: false, publicOrigins: ['https://custody.example.com'] };
  const internal = { host: '10.0.0.5:3000' };

  it('accepts a URL on a configured public origin, whatever Host the request carries', () => {
    expect(namesThisGateway('wss://custody.example.com/agent/v1', internal, options)).toBe(true);
    expect(namesThisGateway('wss://CUSTODY.example.com:443/agent/v1', internal, options)).toBe(
      true,
    );
  });

  it('refuses another host, port, scheme or path than the public origin', () => {
    for (const url of [
      'wss://impostor.example/agent/v1',
      'wss://custody.example.com:8443/agent/v1',
      'ws://custody.example.com:443/agent/v1',
      'wss://custody.example.com/elsewhere',
      'not a url',
    ]) {
      expect(namesThisGateway(url, internal, options)).toBe(false);
    }
  });
});

describe('the address handed out at enrollment', () => {
  it('is the forwarded host and scheme behind a trusted proxy, else the Host header', () => {
    const headers = {
      host: '10.0.0.5:3000',
      'x-forwarded-host': 'custody.example.com',
      'x-forwarded-proto': 'https',
    };
    expect(requestedHost(headers, PROXIED)).toBe('custody.example.com');
    expect(forwardedTls(headers, PROXIED)).toBe(true);
    expect(requestedHost(headers, DIRECT)).toBe('10.0.0.5:3000');
    expect(forwardedTls(headers, DIRECT)).toBeUndefined();
  });
});
