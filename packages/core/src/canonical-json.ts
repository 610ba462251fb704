import { DomainError } from './domain-error.ts';

/*
 * Canonical JSON for hashing, close to RFC 8785 (JCS): object keys sorted by UTF-16 code units,
 * no whitespace, strings and numbers serialised as JSON.stringify does. On top of JCS:
 *
 * - Dates become their ISO-8601 string, so a row read back from the database hashes like the
 *   object that was written.
 * - Object properties whose value is undefined are omitted (as JSON.stringify does), so an absent
 *   optional field and an explicit undefined hash the same; undefined anywhere else is rejected.
 * - Anything JSON cannot represent faithfully is rejected rather than coerced: NaN and Infinity,
 *   bigint, functions, symbols, invalid dates, cycles, and objects that are not plain (Map, Set,
 *   class instances), because silently hashing "{}" for a Map would make tampering invisible.
 */

function reject(path: string, what: string): DomainError {
  return new DomainError('invalid-input', `Cannot canonicalise ${what} at ${path}.`, {
    details: { path },
  });
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw reject(path, String(value));
      return JSON.stringify(value);
  }
  if (value === undefined) throw reject(path, 'undefined');
  if (typeof value !== 'object') throw reject(path, `a ${typeof value}`);
  if (value === null) return 'null';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw reject(path, 'an invalid date');
    return JSON.stringify(value.toISOString());
  }
  if (seen.has(value)) throw reject(path, 'a circular reference');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      // Array.from visits holes as undefined (map would skip them and emit "[1,,2]"), so a sparse
      // array is rejected like any other undefined element.
      const items = Array.from(value as unknown[], (item, index) =>
        write(item, `${path}[${index}]`, seen),
      );
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(value)) throw reject(path, 'a non-plain object');
    const members = Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${write(value[key], `${path}.${key}`, seen)}`);
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}

/** Throws DomainError('invalid-input') naming the path of the first value it cannot represent. */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}
