import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  BASIC_CHALLENGE_HTTPS_12_11,
  DIGEST_CHALLENGE_9_80,
  RTSP_DIGEST_CHALLENGE,
} from './fixtures/auth.ts';
import { VapixError } from './vapix-error.ts';
import {
  parseWwwAuthenticate,
  pickDigestChallenge,
  serialFromRealm,
  toDigestChallenge,
} from './www-authenticate.ts';

describe('parseWwwAuthenticate', () => {
  it('reads the recorded 9.80 Digest challenge (reference §2)', () => {
    const [challenge] = parseWwwAuthenticate(DIGEST_CHALLENGE_9_80);
    expect(challenge?.scheme).toBe('digest');
    expect(challenge?.params).toEqual({
      realm: 'AXIS_ACCC8EF7DE6B',
      nonce: 'h20V+wGvBQA=b6c0',
      algorithm: 'MD5',
      qop: 'auth',
    });
  });

  it('reads one challenge per header when several headers are sent (Basic and Digest)', () => {
    const challenges = parseWwwAuthenticate([BASIC_CHALLENGE_HTTPS_12_11, DIGEST_CHALLENGE_9_80]);
    expect(challenges.map((challenge) => challenge.scheme)).toEqual(['basic', 'digest']);
  });

  it('splits comma-joined challenges in one header', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="AXIS_B8A44F631339", Digest realm="AXIS_B8A44F631339", nonce="n1", qop="auth"',
    );
    expect(challenges).toHaveLength(2);
    expect(challenges[1]?.params.nonce).toBe('n1');
  });

  it('keeps commas and escaped quotes inside quoted strings', () => {
    const [challenge] = parseWwwAuthenticate(
      'Digest realm="a, \\"quoted\\" realm", nonce="x,y", qop="auth,auth-int"',
    );
    expect(challenge?.params.realm).toBe('a, "quoted" realm');
    expect(challenge?.params.nonce).toBe('x,y');
    expect(challenge?.params.qop).toBe('auth,auth-int');
  });

  it('lower-cases scheme and parameter names but not values', () => {
    const [challenge] = parseWwwAuthenticate('DIGEST Realm="R", NONCE="AbC", Stale=TRUE');
    expect(challenge?.scheme).toBe('digest');
    expect(challenge?.params).toEqual({ realm: 'R', nonce: 'AbC', stale: 'TRUE' });
  });

  it('reads a token68 after the scheme', () => {
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc==' },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  it('reads the RTSP challenge with stale=FALSE as not stale', () => {
    const digest = pickDigestChallenge(parseWwwAuthenticate(RTSP_DIGEST_CHALLENGE));
    expect(digest).toMatchObject({
      realm: 'AXIS_ACCC8E012345',
      stale: false,
      qop: undefined,
      algorithm: 'MD5',
    });
  });

  it('returns nothing for a missing header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });

  it('never throws on arbitrary header text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), (input) => {
        const challenges = parseWwwAuthenticate(input);
        expect(Array.isArray(challenges)).toBe(true);
        for (const challenge of challenges) toDigestChallenge(challenge);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on header-like text built from challenge syntax', () => {
    const piece = fc.constantFrom(
      'Digest',
      'Basic',
      ' ',
      ',',
      '=',
      '"',
      '\\',
      'realm',
      'nonce',
      'stale=true',
      'qop="auth"',
      'a==',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const input = pieces.join('');
        try {
          pickDigestChallenge(parseWwwAuthenticate(input));
        } catch (error) {
          expect(error).toBeInstanceOf(VapixError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('choosing a Digest challenge', () => {
  it('prefers SHA-256 over MD5 when both are offered', () => {
    const digest = pickDigestChallenge(
      parseWwwAuthenticate([
        'Digest realm="r", nonce="a", algorithm=MD5, qop="auth"',
        'Digest realm="r", nonce="b", algorithm=SHA-256, qop="auth"',
      ]),
    );
    expect(digest?.algorithm).toBe('SHA-256');
    expect(digest?.nonce).toBe('b');
  });

  it('skips challenges with unknown algorithms or only qop=auth-int', () => {
    expect(
      pickDigestChallenge(
        parseWwwAuthenticate('Digest realm="r", nonce="a", algorithm=SHA-512-256'),
      ),
    ).toBeUndefined();
    expect(
      pickDigestChallenge(parseWwwAuthenticate('Digest realm="r", nonce="a", qop="auth-int"')),
    ).toBeUndefined();
  });

  it('reads the serial from an AXIS realm', () => {
    expect(serialFromRealm('AXIS_accc8ef7de6b')).toBe('ACCC8EF7DE6B');
    expect(serialFromRealm('http-auth@example.org')).toBeUndefined();
  });
});
