export const REDACTED = '[redacted]';

/**
 * Shorter passwords are not masked: a 3-character password would turn ordinary words in every
 * message into "[redacted]" while protecting next to nothing.
 */
const MIN_MASKED_LENGTH = 4;

export interface SecretScrubber {
  /** The text with every known secret replaced by [redacted]. */
  text(value: string): string;
  /** A deep copy of JSON-like data with every string scrubbed. */
  value<T>(value: T): T;
  /** How many replacements were made; a non-zero count is a bug worth a log line. */
  readonly hits: number;
}

/**
 * A last line of defence: the verbs build their results and messages from references and
 * usernames only, and this makes sure that a password that slipped into a device's error text or
 * a bug still never reaches a report or a log line.
 */
export function createSecretScrubber(secrets: readonly string[]): SecretScrubber {
  // Longest first, so a secret containing another one is masked whole.
  const masked = [...new Set(secrets)]
    .filter((secret) => secret.length >= MIN_MASKED_LENGTH)
    .sort((a, b) => b.length - a.length);
  let hits = 0;
  const text = (value: string): string => {
    let result = value;
    for (const secret of masked) {
      if (!result.includes(secret)) continue;
      const parts = result.split(secret);
      hits += parts.length - 1;
      result = parts.join(REDACTED);
    }
    return result;
  };
  const deep = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, entry]) => [text(key), deep(entry)]),
      );
    }
    return value;
  };
  return {
    text,
    value: <T>(value: T) => deep(value) as T,
    get hits() {
      return hits;
    },
  };
}

/** Every password in a raw, unverified payload, found without trusting its shape. */
export function passwordsIn(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const secrets = (payload as { secrets?: unknown }).secrets;
  if (typeof secrets !== 'object' || secrets === null) return [];
  const found: string[] = [];
  for (const secret of Object.values(secrets)) {
    if (typeof secret !== 'object' || secret === null) continue;
    const password = (secret as { password?: unknown }).password;
    if (typeof password === 'string') found.push(password);
  }
  return found;
}
