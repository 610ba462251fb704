import { hash as digestOf, randomBytes } from 'node:crypto';

import type { DigestAlgorithm, DigestChallenge } from './www-authenticate.ts';

/** One-shot hashing: about a third of the cost of createHash().update().digest() per call. */
function hash(algorithm: DigestAlgorithm, data: string): string {
  return digestOf(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5', data, 'hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** The request-target exactly as sent on the request line, query included. */
  uri: string;
  /** Omit both for the RFC 2069 form used when the challenge has no qop. */
  qop?: 'auth';
  nc?: number;
  cnonce?: string;
}

/** `nc` as RFC 7616 wants it: 8 lower-case hex digits. */
export function formatNonceCount(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

/** The `response` value of RFC 7616 §3.4.1 (and RFC 2069 when qop is absent). */
export function computeDigestResponse(input: DigestInput): string {
  const { algorithm, username, password, realm, nonce, method, uri, qop, nc, cnonce } = input;
  let ha1 = hash(algorithm, `${username}:${realm}:${password}`);
  if (algorithm.endsWith('-sess')) {
    ha1 = hash(algorithm, `${ha1}:${nonce}:${cnonce ?? ''}`);
  }
  const ha2 = hash(algorithm, `${method}:${uri}`);
  if (qop === undefined) return hash(algorithm, `${ha1}:${nonce}:${ha2}`);
  return hash(
    algorithm,
    `${ha1}:${nonce}:${formatNonceCount(nc ?? 1)}:${cnonce ?? ''}:${qop}:${ha2}`,
  );
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

const CNONCE_BYTES = 16;
// One call into the system RNG per 256 cnonces rather than one per signed request.
let entropy = Buffer.alloc(0);
let entropyOffset = 0;

/** 128 random bits as 32 hex digits; each value is drawn fresh and used once. */
export function createCnonce(): string {
  if (entropyOffset + CNONCE_BYTES > entropy.length) {
    entropy = randomBytes(CNONCE_BYTES * 256);
    entropyOffset = 0;
  }
  const cnonce = entropy.toString('hex', entropyOffset, entropyOffset + CNONCE_BYTES);
  entropyOffset += CNONCE_BYTES;
  return cnonce;
}

/**
 * One Digest session: the device's nonce plus our nonce count. Reusing it keeps steady state
 * at one round trip per call; the count increments on every request signed with the nonce.
 */
export class DigestSession {
  private nc = 0;
  constructor(
    readonly challenge: DigestChallenge,
    private readonly makeCnonce: () => string = createCnonce,
  ) {}

  get nonceCount(): number {
    return this.nc;
  }

  authorize(
    method: string,
    uri: string,
    credentials: { username: string; password: string },
  ): string {
    const { challenge } = this;
    const qop = challenge.qop;
    const needsCnonce = qop !== undefined || challenge.algorithm.endsWith('-sess');
    const cnonce = needsCnonce ? this.makeCnonce() : undefined;
    this.nc += 1;
    const response = computeDigestResponse({
      algorithm: challenge.algorithm,
      username: credentials.username,
      password: credentials.password,
      realm: challenge.realm,
      nonce: challenge.nonce,
      method,
      uri,
      qop,
      nc: this.nc,
      cnonce,
    });
    const parts = [
      `username=${quote(credentials.username)}`,
      `realm=${quote(challenge.realm)}`,
      `nonce=${quote(challenge.nonce)}`,
      `uri=${quote(uri)}`,
    ];
    if (challenge.algorithmExplicit) parts.push(`algorithm=${challenge.algorithm}`);
    if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${formatNonceCount(this.nc)}`);
    if (cnonce !== undefined) parts.push(`cnonce=${quote(cnonce)}`);
    parts.push(`response=${quote(response)}`);
    if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

export function basicAuthorization(credentials: { username: string; password: string }): string {
  const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString(
    'base64',
  );
  return `Basic ${token}`;
}
