import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';
import { isDomainError } from './domain-error.ts';

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const rotated = entries.map((_, index) => entries[(index + seed) % entries.length]!).reverse();
  const result: Record<string, unknown> = {};
  for (const [key, item] of rotated) {
    Object.defineProperty(result, key, {
      value: shuffleKeys(item, seed),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

function rejectionOf(value: unknown): { message: string; path: unknown } {
  try {
    canonicalJson(value);
  } catch (error) {
    if (isDomainError(error, 'invalid-input')) {
      return { message: error.message, path: error.details.path };
    }
    throw error;
  }
  throw new Error('canonicalJson accepted the value');
}

describe('canonicalJson', () => {
  it('sorts object keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: true, e: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"e":null,"f":true}]},"b":1}',
    );
  });

  it('sorts keys by UTF-16 code units, not code points or locale', () => {
    const value = { '\uffff': 5, '😀': 4, é: 3, z: 2, A: 1, '10': 0, '9': -1 };
    expect(canonicalJson(value)).toBe('{"10":0,"9":-1,"A":1,"z":2,"é":3,"😀":4,"\uffff":5}');
  });

  it('writes scalars as JSON does', () => {
    expect(canonicalJson('a "quoted"\nline')).toBe('"a \\"quoted\\"\\nline"');
    expect(canonicalJson(1.5e-7)).toBe('1.5e-7');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(null)).toBe('null');
  });

  it('writes dates as ISO-8601 strings, so a date and its string hash alike', () => {
    const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6));
    expect(canonicalJson({ at })).toBe('{"at":"2025-01-02T03:04:05.006Z"}');
    expect(canonicalJson({ at })).toBe(canonicalJson({ at: at.toISOString() }));
  });

  it('omits properties whose value is undefined', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('accepts objects without a prototype', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    expect(canonicalJson(value)).toBe('{"a":1,"b":2}');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe(
      '{"a":{"x":1},"b":[{"x":1},{"x":1}]}',
    );
  });

  it.each([
    ['NaN', { n: Number.NaN }, '$.n', /NaN/],
    ['Infinity', { list: [1, Number.POSITIVE_INFINITY] }, '$.list[1]', /Infinity/],
    ['a bigint', { big: 1n }, '$.big', /bigint/],
    ['a function', { fn: () => 1 }, '$.fn', /function/],
    ['a symbol', { s: Symbol('s') }, '$.s', /symbol/],
    ['an invalid date', { at: new Date(Number.NaN) }, '$.at', /invalid date/],
    ['a Map', { m: new Map([['a', 1]]) }, '$.m', /non-plain object/],
    ['a Set', { s: new Set([1]) }, '$.s', /non-plain object/],
    ['a class instance', { e: new Error('x') }, '$.e', /non-plain object/],
    ['undefined at the top level', undefined, '$', /undefined/],
    ['undefined in an array', [1, undefined], '$[1]', /undefined/],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole in a sparse array', [1, , 3], '$[1]', /undefined/],
  ])('rejects %s and names its path', (_label, value, path, message) => {
    const rejection = rejectionOf(value);
    expect(rejection.path).toBe(path);
    expect(rejection.message).toMatch(message);
  });

  it('rejects cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(rejectionOf(cyclic)).toEqual({
      message: expect.stringMatching(/circular reference/) as unknown,
      path: '$.self.back',
    });
    const list: unknown[] = [];
    list.push(list);
    expect(rejectionOf(list).path).toBe('$[0]');
  });

  it('always produces JSON that parses back to the value JSON.stringify describes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('is a fixed point: canonicalising parsed canonical JSON changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it('does not depend on the order in which keys were inserted', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(10), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
    );
  });
});
