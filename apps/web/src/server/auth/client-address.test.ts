import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_HEADER, readClientAddress, stampClientAddress } from './client-address.ts';

function request(remoteAddress: string, headers: Record<string, string>): IncomingMessage {
  return { socket: { remoteAddress }, headers: { ...headers } } as unknown as IncomingMessage;
}

describe('stampClientAddress', () => {
  it('replaces whatever address the client claimed with the socket address', () => {
    const req = request('::ffff:192.0.2.5', {
      [CLIENT_ADDRESS_HEADER]: '10.9.9.9',
      'x-forwarded-for': '10.8.8.8',
    });
    stampClientAddress(req, false);
    expect(req.headers[CLIENT_ADDRESS_HEADER]).toBe('192.0.2.5');
  });

  it('behind a trusted proxy takes the hop the proxy appended', () => {
    const req = request('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' });
    stampClientAddress(req, true);
    expect(req.headers[CLIENT_ADDRESS_HEADER]).toBe('198.51.100.7');
    expect(readClientAddress(new Headers({ [CLIENT_ADDRESS_HEADER]: ' 198.51.100.7 ' }))).toBe(
      '198.51.100.7',
    );
    expect(readClientAddress(new Headers())).toBeNull();
  });
});
