export interface AuthChallenge {
  /** Lower-cased scheme, e.g. `digest`, `basic`. */
  scheme: string;
  /** Lower-cased parameter names; values unquoted and unescaped. */
  params: Readonly<Record<string, string>>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function isTchar(char: string | undefined): boolean {
  return char !== undefined && TCHAR.test(char);
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
  const input = typeof headerValues === 'string' ? headerValues : headerValues.join(', ');
  const challenges: AuthChallenge[] = [];
  let current: { scheme: string; params: Record<string, string>; token68?: string } | undefined;
  let pos = 0;

  const skipWhitespace = (): void => {
    while (pos < input.length && (input[pos] === ' ' || input[pos] === '\t')) pos++;
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < input.length && isTchar(input[pos])) pos++;
    return input.slice(start, pos);
  };
  const skipToNextComma = (): void => {
    while (pos < input.length && input[pos] !== ',') {
      if (input[pos] === '"') readQuoted();
      else pos++;
    }
  };
  const readQuoted = (): string => {
    pos++;
    let value = '';
    while (pos < input.length) {
      const char = input[pos];
      if (char === '\\' && pos + 1 < input.length) {
        value += input[pos + 1];
        pos += 2;
      } else if (char === '"') {
        pos++;
        return value;
      } else {
        value += char;
        pos++;
      }
    }
    return value;
  };
  const readBareValue = (): string => {
    const start = pos;
    while (pos < input.length && input[pos] !== ',' && input[pos] !== ' ' && input[pos] !== '\t') {
      pos++;
    }
    return input.slice(start, pos);
  };
  /** After `token`, a run of `=` followed by the end or a comma makes it a token68. */
  const token68Length = (from: number): number | undefined => {
    let end = from;
    while (end < input.length && input[end] === '=') end++;
    let after = end;
    while (after < input.length && (input[after] === ' ' || input[after] === '\t')) after++;
    return after >= input.length || input[after] === ',' ? end - from : undefined;
  };

  while (pos < input.length) {
    while (pos < input.length && /[\s,]/.test(input[pos] ?? '')) pos++;
    if (pos >= input.length) break;

    const token = readToken();
    if (token === '') {
      pos++;
      skipToNextComma();
      continue;
    }
    const afterToken = pos;
    skipWhitespace();

    if (input[pos] === '=') {
      if (current === undefined) {
        skipToNextComma();
        continue;
      }
      pos++;
      skipWhitespace();
      const value = input[pos] === '"' ? readQuoted() : readBareValue();
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
    if (pos > afterToken && isTchar(input[pos])) {
      const save = pos;
      const next = readToken();
      const padding = token68Length(pos);
      if (next !== '' && padding !== undefined) {
        current.token68 = next + '='.repeat(padding);
        pos += padding;
      } else {
        pos = save;
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
