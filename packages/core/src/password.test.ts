import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GENERATED_PASSWORD_LENGTH,
  DEVICE_PASSWORD_MAX_LENGTH,
  PASSWORD_POLICIES,
  PASSWORD_POLICY_MIN_LENGTH,
  SAFE_PASSWORD_ALPHABET,
  checkPasswordPolicy,
  generateDevicePassword,
  isPasswordCompliant,
} from './password.ts';
import type { PasswordPolicy, RandomBytes } from './password.ts';

/** Deterministic stand-in for crypto.getRandomValues: a small xorshift generator. */
function seededRandom(seed: number): RandomBytes {
  let state = seed >>> 0 || 1;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state & 0xff;
    });
}

/** Hands out the given bytes in order, then repeats them. */
function scriptedRandom(bytes: readonly number[]): RandomBytes {
  let next = 0;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      const byte = bytes[next % bytes.length]!;
      next += 1;
      return byte;
    });
}

/** Mostly printable ASCII, sometimes any code point (controls, accents, astral symbols). */
const characterArbitrary = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  },
);

function codes(password: string, policy: PasswordPolicy): string[] {
  return checkPasswordPolicy(password, policy).map((violation) => violation.code);
}

describe('checkPasswordPolicy', () => {
  it('uses the device minimum lengths: 1 without a policy, 15 for length, 12 for complex', () => {
    expect(PASSWORD_POLICY_MIN_LENGTH).toEqual({ none: 1, length: 15, complex: 12 });
    expect(DEVICE_PASSWORD_MAX_LENGTH).toBe(64);
  });

  it.each<[PasswordPolicy, string, string[]]>([
    ['none', 'a', []],
    ['none', '', ['too-short']],
    ['none', 'x'.repeat(64), []],
    ['none', 'x'.repeat(65), ['too-long']],
    ['none', ' ~ spaces and tildes ~ ', []],
    ['none', 'pässword', ['non-printable']],
    ['none', 'tab\there', ['non-printable']],
    ['length', 'fifteen-chars!!', []],
    ['length', 'fourteen-chars', ['too-short']],
    ['complex', 'Abcdefghij1!', []],
    ['complex', 'Abcdefghi1!', ['too-short']],
    ['complex', 'ABCDEFGHIJ1!', ['missing-lowercase']],
    ['complex', 'abcdefghij1!', ['missing-uppercase']],
    ['complex', 'Abcdefghijk!', ['missing-digit']],
    ['complex', 'Abcdefghijk1', ['missing-symbol']],
    ['complex', 'Abcdefghij1 ', []],
    [
      'complex',
      '',
      ['too-short', 'missing-lowercase', 'missing-uppercase', 'missing-digit', 'missing-symbol'],
    ],
  ])('under policy %s judges %j as %j', (policy, password, expected) => {
    expect(codes(password, policy)).toEqual(expected);
    expect(isPasswordCompliant(password, policy)).toBe(expected.length === 0);
  });

  it('describes the rule without repeating the password', () => {
    const password = 'Secret-Horse';
    for (const policy of PASSWORD_POLICIES) {
      for (const violation of checkPasswordPolicy(password.slice(0, 3), policy)) {
        expect(violation.message).not.toContain('Sec');
        expect(violation.message.length).toBeGreaterThan(0);
      }
    }
    expect(checkPasswordPolicy('', 'length')[0]?.message).toBe(
      'The password must be at least 15 characters long.',
    );
  });

  it('accepts exactly the printable ASCII passwords of 1 to 64 characters when there is no policy', () => {
    fc.assert(
      fc.property(fc.string({ unit: characterArbitrary, maxLength: 70 }), (password) => {
        const expected =
          password.length >= 1 && password.length <= 64 && /^[\x20-\x7e]*$/.test(password);
        expect(isPasswordCompliant(password, 'none')).toBe(expected);
      }),
    );
  });
});

describe('generateDevicePassword', () => {
  it('draws only from the alphabet that needs no escaping anywhere', () => {
    expect(SAFE_PASSWORD_ALPHABET).toHaveLength(70);
    expect(new Set(SAFE_PASSWORD_ALPHABET).size).toBe(70);
    for (const character of SAFE_PASSWORD_ALPHABET) {
      expect(encodeURIComponent(character)).toBe(character);
    }
    expect(SAFE_PASSWORD_ALPHABET).not.toMatch(/[\s'"\\:&=#%+?/@;,<>$|]/);
  });

  it('is deterministic for a given random source', () => {
    const first = generateDevicePassword({ policy: 'complex', random: seededRandom(42) });
    const second = generateDevicePassword({ policy: 'complex', random: seededRandom(42) });
    expect(first).toBe(second);
    expect(first).toHaveLength(DEFAULT_GENERATED_PASSWORD_LENGTH);
    expect(generateDevicePassword({ policy: 'complex', random: seededRandom(43) })).not.toBe(first);
  });

  it('maps each accepted byte to the alphabet by its remainder', () => {
    const password = generateDevicePassword({
      policy: 'none',
      length: 5,
      random: scriptedRandom([0, 1, 69, 70, 139]),
    });
    expect(password).toBe('ab)a)');
  });

  it('discards bytes that would bias the draw, and keeps the ones below 210', () => {
    // 256 % 70 = 46, so bytes 210–255 are rejected: only 0, 26, 52 and 209 survive here.
    const password = generateDevicePassword({
      policy: 'none',
      length: 4,
      random: scriptedRandom([210, 0, 255, 26, 230, 52, 209, 211]),
    });
    expect(password).toBe(`aA0${SAFE_PASSWORD_ALPHABET[209 % 70]}`);
  });

  it('redraws a whole password that misses a class the complex policy needs', () => {
    const lowerOnly = Array.from({ length: 12 }, (_, index) => index);
    const compliant = [26, 52, 62, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    const password = generateDevicePassword({
      policy: 'complex',
      length: 12,
      random: scriptedRandom([...lowerOnly, ...compliant]),
    });
    expect(password).toBe('A0-abcdefghi');
    expect(isPasswordCompliant(password, 'complex')).toBe(true);
  });

  it('gives up on a random source that never yields a usable byte', () => {
    expect(() =>
      generateDevicePassword({ policy: 'none', random: (n) => new Uint8Array(n).fill(0xff) }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid-input',
        message: expect.stringMatching(/does not look random/) as unknown,
      }),
    );
  });

  it('refuses a random source that returns the wrong number of bytes', () => {
    expect(() =>
      generateDevicePassword({ policy: 'none', random: () => new Uint8Array(3) }),
    ).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(() =>
      generateDevicePassword({
        policy: 'none',
        length: 2,
        random: () => [1, 2] as unknown as Uint8Array,
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });

  it.each<[PasswordPolicy, number]>([
    ['none', 0],
    ['none', 65],
    ['length', 14],
    ['complex', 11],
    ['complex', 12.5],
    ['none', Number.NaN],
  ])('refuses to generate a %s password of length %d', (policy, length) => {
    expect(() => generateDevicePassword({ policy, length, random: seededRandom(1) })).toThrow(
      expect.objectContaining({ code: 'invalid-input', details: { length, policy } }),
    );
  });

  it('always produces a password of the asked length that meets its policy', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PASSWORD_POLICIES),
        fc.integer({ min: 0, max: DEVICE_PASSWORD_MAX_LENGTH }),
        fc.integer(),
        (policy, extra, seed) => {
          const min = PASSWORD_POLICY_MIN_LENGTH[policy];
          const length = min + (extra % (DEVICE_PASSWORD_MAX_LENGTH - min + 1));
          const password = generateDevicePassword({ policy, length, random: seededRandom(seed) });
          expect(password).toHaveLength(length);
          expect(checkPasswordPolicy(password, policy)).toEqual([]);
          for (const character of password) expect(SAFE_PASSWORD_ALPHABET).toContain(character);
        },
      ),
    );
  });

  it('uses whatever bytes the random source gives, without relying on their quality', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ minLength: 1, maxLength: 64 })
          .filter((bytes) => bytes.some((b) => b < 210)),
        (bytes) => {
          const password = generateDevicePassword({
            policy: 'length',
            length: 15,
            random: scriptedRandom(Array.from(bytes)),
          });
          expect(isPasswordCompliant(password, 'length')).toBe(true);
        },
      ),
    );
  });
});
