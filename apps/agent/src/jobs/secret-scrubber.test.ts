import { describe, expect, it } from 'vitest';
import { createSecretScrubber, passwordsIn } from './secret-scrubber.ts';

describe('createSecretScrubber', () => {
  it('masks every occurrence in nested data, keys included, and counts them', () => {
    const scrub = createSecretScrubber(['hunter22', 'hunter22-long']);
    const cleaned = scrub.value({ a: 'x hunter22-long y', b: [{ hunter22: 'hunter22' }], n: 3 });
    expect(cleaned).toEqual({
      a: 'x [redacted] y',
      b: [{ '[redacted]': '[redacted]' }],
      n: 3,
    });
    expect(scrub.hits).toBe(3);
  });

  it('leaves passwords too short to mask without damaging ordinary text', () => {
    const scrub = createSecretScrubber(['abc']);
    expect(scrub.text('abc def')).toBe('abc def');
    expect(scrub.hits).toBe(0);
  });
});

describe('passwordsIn', () => {
  it('finds the passwords of a raw payload whatever else is wrong with it', () => {
    expect(passwordsIn({ secrets: { a: { password: 'p1' }, b: { username: 'x' }, c: 7 } })).toEqual(
      ['p1'],
    );
    expect(passwordsIn(null)).toEqual([]);
    expect(passwordsIn({ secrets: 'nope' })).toEqual([]);
  });
});
