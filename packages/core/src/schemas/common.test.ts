import { describe, expect, it } from 'vitest';
import { IdSchema, IpAddressSchema, TextSchema, TimestampSchema } from './common.ts';

describe('IdSchema', () => {
  it('accepts UUIDs and nothing else', () => {
    expect(IdSchema.safeParse('3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f').success).toBe(true);
    expect(IdSchema.safeParse('camera-1').success).toBe(false);
    expect(IdSchema.safeParse('').success).toBe(false);
  });
});

describe('TimestampSchema', () => {
  it('keeps a Date as it is', () => {
    const at = new Date('2025-06-01T12:00:00.000Z');
    expect(TimestampSchema.parse(at)).toBe(at);
  });

  it('turns an ISO-8601 string with an offset into a Date', () => {
    expect(TimestampSchema.parse('2025-06-01T12:00:00Z')).toEqual(new Date('2025-06-01T12:00:00Z'));
    expect(TimestampSchema.parse('2025-06-01T14:00:00.250+02:00')).toEqual(
      new Date('2025-06-01T12:00:00.250Z'),
    );
  });

  it.each([
    ['a local time without offset', '2025-06-01T12:00:00'],
    ['a date alone', '2025-06-01'],
    ['an invalid date', new Date(Number.NaN)],
    ['epoch milliseconds', 1_748_779_200_000],
    ['prose', 'yesterday'],
  ])('rejects %s', (_label, input) => {
    expect(TimestampSchema.safeParse(input).success).toBe(false);
  });
});

describe('TextSchema', () => {
  it('trims and requires some text of at most 500 characters', () => {
    expect(TextSchema.parse('  Main entrance  ')).toBe('Main entrance');
    expect(TextSchema.safeParse('   ').success).toBe(false);
    expect(TextSchema.safeParse('x'.repeat(500)).success).toBe(true);
    expect(TextSchema.safeParse('x'.repeat(501)).success).toBe(false);
  });
});

describe('IpAddressSchema', () => {
  it('accepts IPv4 and IPv6 addresses, not host names', () => {
    expect(IpAddressSchema.safeParse('192.168.0.90').success).toBe(true);
    expect(IpAddressSchema.safeParse('fe80::1').success).toBe(true);
    expect(IpAddressSchema.safeParse('256.1.1.1').success).toBe(false);
    expect(IpAddressSchema.safeParse('axis-accc8e012345.local').success).toBe(false);
  });
});
