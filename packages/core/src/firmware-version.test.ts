import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FirmwareFloorSchema,
  compareFirmware,
  firmwareBelowFloor,
  isFirmwareBelow,
} from './firmware-version.ts';

describe('compareFirmware', () => {
  it('orders AXIS versions number by number, not as text', () => {
    const versions = ['12.0.1', '9.80.3', '11.11.73', '6.50.5.12', '10.12.240', '11.11.124'];
    expect([...versions].sort(compareFirmware)).toEqual([
      '6.50.5.12',
      '9.80.3',
      '10.12.240',
      '11.11.73',
      '11.11.124',
      '12.0.1',
    ]);
  });

  it('puts a version before its own extensions and ignores leading zeros', () => {
    expect(compareFirmware('11.11', '11.11.0')).toBeLessThan(0);
    expect(compareFirmware('11.011.73', '11.11.73')).not.toBe(0);
    expect(compareFirmware('11.011.9', '11.11.73')).toBeLessThan(0);
    expect(compareFirmware('10.12.240', '10.12.240')).toBe(0);
  });

  it('compares numbers longer than a double holds exactly', () => {
    expect(compareFirmware('1.90071992547409931', '1.90071992547409930')).toBeGreaterThan(0);
  });

  it('is a total order: antisymmetric and transitive', () => {
    const version = fc
      .array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join('.'));
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        // `===`, not toBe: for equal versions the negated sign is -0, which Object.is tells from 0.
        expect(Math.sign(compareFirmware(a, b)) === -Math.sign(compareFirmware(b, a))).toBe(true);
        if (compareFirmware(a, b) <= 0 && compareFirmware(b, c) <= 0) {
          expect(compareFirmware(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });
});

describe('isFirmwareBelow', () => {
  it('is true only for comparable versions strictly older than the floor', () => {
    expect(isFirmwareBelow('9.80.3', '10.12')).toBe(true);
    expect(isFirmwareBelow('10.12', '10.12')).toBe(false);
    expect(isFirmwareBelow('10.12.1', '10.12')).toBe(false);
    expect(isFirmwareBelow('11.11.73_beta', '11.11.73')).toBe(false);
    expect(isFirmwareBelow(null, '10.12')).toBe(false);
    expect(isFirmwareBelow('unknown', '10.12')).toBe(false);
    expect(isFirmwareBelow('9.80.3', null)).toBe(false);
  });

  it('lists each distinct version below the floor once', () => {
    expect(firmwareBelowFloor(['9.80.3', '12.0.1', '9.80.3', '10.12.240'], '10.12.246')).toEqual([
      '9.80.3',
      '10.12.240',
    ]);
    expect(firmwareBelowFloor(['9.80.3'], null)).toEqual([]);
  });
});

describe('FirmwareFloorSchema', () => {
  it('accepts dotted numbers and refuses anything else', () => {
    expect(FirmwareFloorSchema.parse(' 11.11.73 ')).toBe('11.11.73');
    expect(FirmwareFloorSchema.parse('12')).toBe('12');
    for (const bad of ['', '11.', 'v11', '11..2', '11.11.73; drop', '1.2.3.4.5.6.7']) {
      expect(FirmwareFloorSchema.safeParse(bad).success).toBe(false);
    }
  });
});
