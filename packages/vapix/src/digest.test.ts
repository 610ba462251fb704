import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { computeDigestResponse, DigestSession, formatNonceCount } from './digest.ts';
import { RFC7616_EXAMPLE as rfc } from './fixtures/auth.ts';
import {
  parseWwwAuthenticate,
  toDigestChallenge,
  type DigestChallenge,
} from './www-authenticate.ts';

const md5 = (data: string): string => createHash('md5').update(data).digest('hex');
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');

const base = {
  username: rfc.username,
  password: rfc.password,
  realm: rfc.realm,
  nonce: rfc.nonce,
  cnonce: rfc.cnonce,
  nc: 1,
  qop: 'auth' as const,
  uri: rfc.uri,
  method: rfc.method,
};

describe('computeDigestResponse (RFC 7616 §3.4.1)', () => {
  it('reproduces the RFC 7616 §3.9.1 MD5 example', () => {
    expect(computeDigestResponse({ ...base, algorithm: 'MD5' })).toBe(rfc.md5Response);
  });

  it('reproduces the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(computeDigestResponse({ ...base, algorithm: 'SHA-256' })).toBe(rfc.sha256Response);
  });

  it('hashes the nonce and cnonce into HA1 for MD5-sess and SHA-256-sess', () => {
    const ha2md5 = md5(`${rfc.method}:${rfc.uri}`);
    const ha1md5 = md5(
      `${md5(`${rfc.username}:${rfc.realm}:${rfc.password}`)}:${rfc.nonce}:${rfc.cnonce}`,
    );
    expect(computeDigestResponse({ ...base, algorithm: 'MD5-sess' })).toBe(
      md5(`${ha1md5}:${rfc.nonce}:00000001:${rfc.cnonce}:auth:${ha2md5}`),
    );
    const ha2sha = sha256(`${rfc.method}:${rfc.uri}`);
    const ha1sha = sha256(
      `${sha256(`${rfc.username}:${rfc.realm}:${rfc.password}`)}:${rfc.nonce}:${rfc.cnonce}`,
    );
    expect(computeDigestResponse({ ...base, algorithm: 'SHA-256-sess' })).toBe(
      sha256(`${ha1sha}:${rfc.nonce}:00000001:${rfc.cnonce}:auth:${ha2sha}`),
    );
  });

  it('uses the RFC 2069 form without qop, matching the recorded AXIS RTSP DESCRIBE (K test_rtsp)', () => {
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        username: 'root',
        password: 'pass',
        realm: 'AXIS_ACCC8E012345',
        nonce: '0000eb57Y1462133062b37999f0cd530f02755fa37b8df1',
        method: 'DESCRIBE',
        uri: 'rtsp://127.0.0.1/axis-media/media.amp?video=0&audio=0&event=on',
      }),
    ).toBe('909e6c215f6b0f350147a81ae3980018');
  });

  it('formats nc as eight lower-case hex digits', () => {
    expect(formatNonceCount(1)).toBe('00000001');
    expect(formatNonceCount(255)).toBe('000000ff');
  });
});

describe('DigestSession', () => {
  const challenge = toDigestChallenge(
    parseWwwAuthenticate(
      `Digest realm="${rfc.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${rfc.nonce}", opaque="${rfc.opaque}"`,
    )[0]!,
  ) as DigestChallenge;

  it('builds the RFC 7616 Authorization header with opaque echoed and the response from the vector', () => {
    const session = new DigestSession(challenge, () => rfc.cnonce);
    const header = session.authorize(rfc.method, rfc.uri, rfc);
    expect(header).toBe(
      `Digest username="Mufasa", realm="${rfc.realm}", nonce="${rfc.nonce}", uri="/dir/index.html", ` +
        `algorithm=SHA-256, qop=auth, nc=00000001, cnonce="${rfc.cnonce}", response="${rfc.sha256Response}", ` +
        `opaque="${rfc.opaque}"`,
    );
  });

  it('increments nc on every request signed with the same nonce', () => {
    const session = new DigestSession(challenge, () => rfc.cnonce);
    session.authorize('GET', '/a', rfc);
    const second = session.authorize('GET', '/b', rfc);
    expect(second).toContain('nc=00000002');
    expect(session.nonceCount).toBe(2);
  });

  it('escapes quotes and backslashes in the quoted username', () => {
    const session = new DigestSession(challenge, () => 'c');
    expect(session.authorize('GET', '/', { username: 'a"b\\c', password: 'x' })).toContain(
      'username="a\\"b\\\\c"',
    );
  });
});
