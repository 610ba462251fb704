import { describe, expect, it } from 'vitest';
import { resolvePublicOrigins } from './public-origins.ts';

describe('resolvePublicOrigins', () => {
  it('prefers the configured origins', () => {
    const origins = resolvePublicOrigins({
      configured: ['https://custody.example', 'https://custody.example'],
      host: '0.0.0.0',
      port: 3000,
    });
    expect(origins).toEqual(['https://custody.example']);
  });

  it('lists the listening address first, then the other loopback names', () => {
    expect(resolvePublicOrigins({ host: '127.0.0.1', port: 3201 })).toEqual([
      'http://127.0.0.1:3201',
      'http://localhost:3201',
      'http://[::1]:3201',
    ]);
    expect(resolvePublicOrigins({ host: 'custody.lan', port: 80 })).toEqual(['http://custody.lan']);
  });

  it('includes the loopback names for a wildcard address', () => {
    const origins = resolvePublicOrigins({ host: '0.0.0.0', port: 3000 });
    expect(origins.slice(0, 3)).toEqual([
      'http://localhost:3000',
      'http://127.0.0.1:3000',
      'http://[::1]:3000',
    ]);
  });
});
