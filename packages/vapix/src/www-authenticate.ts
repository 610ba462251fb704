export interface AuthChallenge {
  /** Lower-cased scheme, e.g. `digest`, `basic`. */
  scheme: string;
  /** Lower-cased parameter names; values unquoted and unescaped. */
  params: Readonly<Record<string, string>>;
  token68?: string;
}

const TCHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[char.charCodeAt(0)] = 1;
}

/** RFC 9110 `tchar`, by code unit (NaN past the end is not one). */
function isTcharCode(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

const SEPARATOR = /[\s,]/;

/** A cursor over header text; a class so a parse creates no closures. */
class HeaderReader {
  pos = 0;
  constructor(readonly input: string) {}

  get done(): boolean {
    return this.pos >= this.input.length;
  }

  char(): string | undefined {
    return this.input[this.pos];
  }

  skipSeparators(): void {
    while (this.pos < this.input.length && SEPARATOR.test(this.input[this.pos] ?? '')) this.pos++;
  }

  skipWhitespace(): void {
    const { input } = this;
    while (this.pos < input.length && (input[this.pos] === ' ' || input[this.pos] === '\t')) {
      this.pos++;
    }
  }

  readToken(): string {
    const { input } = this;
    const start = this.pos;
    while (this.pos < input.length && isTcharCode(input.charCodeAt(this.pos))) this.pos++;
    return input.slice(start, this.pos);
  }

  skipToNextComma(): void {
    const { input } = this;
    while (this.pos < input.length && input[this.pos] !== ',') {
      if (input[this.pos] === '"') this.readQuoted();
      else this.pos++;
    }
  }

  /** Copies runs between escapes in slices rather than one character at a time. */
  readQuoted(): string {
    const { input } = this;
    this.pos++;
    let value = '';
    let runStart = this.pos;
    while (this.pos < input.length) {
      const code = input.charCodeAt(this.pos);
      if (code === 0x5c && this.pos + 1 < input.length) {
        value += input.slice(runStart, this.pos) + input[this.pos + 1];
        this.pos += 2;
        runStart = this.pos;
      } else if (code === 0x22) {
        value += input.slice(runStart, this.pos);
        this.pos++;
        return value;
      } else {
        this.pos++;
      }
    }
    return value + input.slice(runStart, this.pos);
  }

  readBareValue(): string {
    const { input } = this;
    const start = this.pos;
    while (
      this.pos < input.length &&
      input[this.pos] !== ',' &&
      input[this.pos] !== ' ' &&
      input[this.pos] !== '\t'
    ) {
      this.pos++;
    }
    return input.slice(start, this.pos);
  }

  /** After a token, a run of `=` followed by the end or a comma makes it a token68. */
  token68Length(): number | undefined {
    const { input } = this;
    let end = this.pos;
    while (end < input.length && input[end] === '=') end++;
    let after = end;
    while (after < input.length && (input[after] === ' ' || input[after] === '\t')) after++;
    return after >= input.length || input[after] === ',' ? end - this.pos : undefined;
  }
}

/**
 * Parses every challenge out of one or more WWW-Authenticate header values (RFC 9110 §11.6.1):
 * several headers, several comma-joined challenges per header, quoted strings containing
 * commas and escaped quotes. Devices send odd spacing and missing commas, so the parser is
 * lenient: text it cannot read is skipped up to the next comma instead of failing the call.
 */
export function parseWwwAuthenticate(
  headerValues: string | readonly string[] | undefined,
): AuthChallenge[] {
  if (headerValues === undefined) return [];
  const reader = new HeaderReader(
    typeof headerValues === 'string' ? headerValues : headerValues.join(', '),
  );
  const challenges: AuthChallenge[] = [];
  let current: { scheme: string; params: Record<string, string>; token68?: string } | undefined;

  while (!reader.done) {
    reader.skipSeparators();
    if (reader.done) break;

    const token = reader.readToken();
    if (token === '') {
      reader.pos++;
      reader.skipToNextComma();
      continue;
    }
    const afterToken = reader.pos;
    reader.skipWhitespace();

    if (reader.char() === '=') {
      if (current === undefined) {
        reader.skipToNextComma();
        continue;
      }
      reader.pos++;
      reader.skipWhitespace();
      const value = reader.char() === '"' ? reader.readQuoted() : reader.readBareValue();
      const name = token.toLowerCase();
      if (!Object.prototype.hasOwnProperty.call(current.params, name)) current.params[name] = value;
      continue;
    }

    if (current !== undefined) challenges.push(current);
    current = {
      scheme: token.toLowerCase(),
      params: Object.create(null) as Record<string, string>,
    };

    // `Basic abc123` / `Negotiate abc==`: a lone token after the scheme is a token68.
    if (reader.pos > afterToken && isTcharCode(reader.input.charCodeAt(reader.pos))) {
      const save = reader.pos;
      const next = reader.readToken();
      const padding = reader.token68Length();
      if (next !== '' && padding !== undefined) {
        current.token68 = next + '='.repeat(padding);
        reader.pos += padding;
      } else {
        reader.pos = save;
      }
    }
  }
  if (current !== undefined) challenges.push(current);
  return challenges;
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: DigestAlgorithm;
  /** `auth` when offered; undefined means the RFC 2069 form (no nc/cnonce), as on RTSP. */
  qop: 'auth' | undefined;
  stale: boolean;
  /** Whether the challenge named an algorithm; RFC 2069 servers often do not. */
  algorithmExplicit: boolean;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
};

/** The usable Digest challenge, or undefined for unknown algorithms or qop=auth-int only. */
export function toDigestChallenge(challenge: AuthChallenge): DigestChallenge | undefined {
  if (challenge.scheme !== 'digest') return undefined;
  const { realm, nonce, opaque, algorithm, qop, stale } = challenge.params;
  if (realm === undefined || nonce === undefined) return undefined;
  const parsedAlgorithm = ALGORITHMS[(algorithm ?? 'MD5').toLowerCase()];
  if (parsedAlgorithm === undefined) return undefined;
  let parsedQop: 'auth' | undefined;
  if (qop !== undefined) {
    const offered = qop.split(',').map((item) => item.trim().toLowerCase());
    if (!offered.includes('auth')) return undefined;
    parsedQop = 'auth';
  }
  return {
    realm,
    nonce,
    opaque,
    algorithm: parsedAlgorithm,
    qop: parsedQop,
    stale: stale?.toLowerCase() === 'true',
    algorithmExplicit: algorithm !== undefined,
  };
}

const STRENGTH: Record<DigestAlgorithm, number> = {
  'SHA-256': 4,
  'SHA-256-sess': 3,
  MD5: 2,
  'MD5-sess': 1,
};

/** The strongest usable Digest challenge among several. */
export function pickDigestChallenge(
  challenges: readonly AuthChallenge[],
): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const challenge of challenges) {
    const digest = toDigestChallenge(challenge);
    if (
      digest !== undefined &&
      (best === undefined || STRENGTH[digest.algorithm] > STRENGTH[best.algorithm])
    ) {
      best = digest;
    }
  }
  return best;
}

/** The realm of the first challenge that names one (`AXIS_<serial>` on AXIS devices). */
export function realmOf(challenges: readonly AuthChallenge[]): string | undefined {
  for (const challenge of challenges) {
    const realm = challenge.params.realm;
    if (realm !== undefined) return realm;
  }
  return undefined;
}

/** The serial embedded in an AXIS realm (`AXIS_ACCC8EF7DE6B`), reference §2. */
export function serialFromRealm(realm: string | undefined): string | undefined {
  const match = /^AXIS_([0-9A-Fa-f]{12})$/.exec(realm ?? '');
  return match?.[1]?.toUpperCase();
}
