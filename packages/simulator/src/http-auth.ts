import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export type ParsedAuthorization =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'digest'; params: Map<string, string> }
  | { scheme: 'other' };

function isSeparator(code: number): boolean {
  // Space, tab, CR, LF and the comma between pairs.
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a || code === 0x2c;
}

/**
 * Splits `a="x, y", b=z` into pairs, honouring quotes and backslash escapes. Scans by char
 * code and copies runs in slices: every credentialed request passes through here.
 */
export function parseAuthParams(input: string): Map<string, string> {
  const params = new Map<string, string>();
  const length = input.length;
  let index = 0;
  while (index < length) {
    while (index < length && isSeparator(input.charCodeAt(index))) index += 1;
    const nameStart = index;
    while (index < length) {
      const code = input.charCodeAt(index);
      if (code === 0x3d || code === 0x2c) break;
      index += 1;
    }
    const name = input.slice(nameStart, index).trim().toLowerCase();
    if (input.charCodeAt(index) !== 0x3d) {
      if (name) params.set(name, '');
      continue;
    }
    index += 1;
    while (input.charCodeAt(index) === 0x20) index += 1;
    let value = '';
    if (input.charCodeAt(index) === 0x22) {
      index += 1;
      let runStart = index;
      while (index < length) {
        const code = input.charCodeAt(index);
        if (code === 0x22) break;
        if (code === 0x5c && index + 1 < length) {
          value += input.slice(runStart, index);
          index += 1;
          runStart = index;
        }
        index += 1;
      }
      value += input.slice(runStart, index);
      index += 1;
    } else {
      const valueStart = index;
      while (index < length && input.charCodeAt(index) !== 0x2c) index += 1;
      value = input.slice(valueStart, index).trim();
    }
    if (name) params.set(name, value);
  }
  return params;
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : header.slice(space + 1);
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return { scheme: 'other' };
    return {
      scheme: 'basic',
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
    };
  }
  if (scheme === 'digest') return { scheme: 'digest', params: parseAuthParams(rest) };
  return { scheme: 'other' };
}

export function md5Hex(value: string): string {
  return hash('md5', value, 'hex');
}

export interface DigestResponseInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: string;
}

/** RFC 2617 `response` for algorithm MD5 and qop=auth. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const ha1 = md5Hex(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = md5Hex(`${input.method}:${input.uri}`);
  return md5Hex(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type NonceCheck = 'valid' | 'stale' | 'invalid';

/**
 * Nonces in Apache mod_auth_digest's format: base64 of the issue time (8 bytes, microseconds,
 * little-endian; 12 characters) followed by a 40-hex-digit SHA-1 over a per-boot secret, the
 * realm and that time. A new secret at every boot invalidates the previous boot's nonces.
 */
export class NonceIssuer {
  private secret = randomBytes(16).toString('hex');
  private readonly lastNonceCount = new Map<string, number>();

  constructor(
    private readonly realm: string,
    private readonly lifetimeMs: number,
  ) {}

  /** Forgets every nonce, as an Apache restart does. */
  rotate(): void {
    this.secret = randomBytes(16).toString('hex');
    this.lastNonceCount.clear();
  }

  issue(nowMs: number): string {
    const time = Buffer.alloc(8);
    time.writeBigUInt64LE(BigInt(Math.floor(nowMs)) * 1000n);
    const timestamp = time.toString('base64');
    return timestamp + this.hash(timestamp);
  }

  check(nonce: string, nowMs: number): NonceCheck {
    if (nonce.length !== 52) return 'invalid';
    const timestamp = nonce.slice(0, 12);
    if (!safeEqual(nonce.slice(12), this.hash(timestamp))) return 'invalid';
    const time = Buffer.from(timestamp, 'base64');
    if (time.length !== 8) return 'invalid';
    const issuedMs = Number(time.readBigUInt64LE() / 1000n);
    return nowMs - issuedMs > this.lifetimeMs ? 'stale' : 'valid';
  }

  /** Accepts a nonce count only if it is higher than every count seen with that nonce. */
  acceptNonceCount(nonce: string, nonceCount: number, nowMs: number): boolean {
    const last = this.lastNonceCount.get(nonce) ?? 0;
    if (nonceCount <= last) return false;
    if (!this.lastNonceCount.has(nonce) && this.lastNonceCount.size >= 256) this.prune(nowMs);
    this.lastNonceCount.set(nonce, nonceCount);
    return true;
  }

  private prune(nowMs: number): void {
    for (const nonce of this.lastNonceCount.keys()) {
      if (this.check(nonce, nowMs) !== 'valid') this.lastNonceCount.delete(nonce);
    }
    if (this.lastNonceCount.size >= 256) {
      const oldest = this.lastNonceCount.keys().next();
      if (!oldest.done) this.lastNonceCount.delete(oldest.value);
    }
  }

  private hash(timestamp: string): string {
    return hash('sha1', `${this.secret}${this.realm}${timestamp}`, 'hex');
  }
}
