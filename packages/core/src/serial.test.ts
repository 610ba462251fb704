import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.ts';
import {
  AXIS_OUIS,
  SerialSchema,
  hasAxisOui,
  isValidSerial,
  macToSerial,
  normalizeSerial,
  parseSerial,
  serialToMac,
} from './serial.ts';

const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');
const canonicalSerial = fc
  .array(fc.constantFrom(...'0123456789ABCDEF'), { minLength: 12, maxLength: 12 })
  .map((digits) => digits.join(''));
const separator = fc.constantFrom('', '', ':', '-', '.', ' ', '\t');
/** A serial as people type it: any case, any separators between (and around) the digits. */
const spelledSerial = fc
  .tuple(fc.array(fc.tuple(hexDigit, separator), { minLength: 12, maxLength: 12 }), separator)
  .map(([pairs, leading]) => leading + pairs.map(([digit, sep]) => digit + sep).join(''));

describe('parseSerial', () => {
  it.each([
    ['ACCC8E012345', 'ACCC8E012345'],
    ['accc8e012345', 'ACCC8E012345'],
    ['AC:CC:8E:01:23:45', 'ACCC8E012345'],
    ['ac-cc-8e-01-23-45', 'ACCC8E012345'],
    ['accc8e-01:23:45', 'ACCC8E012345'],
    ['ACCC.8E01.2345', 'ACCC8E012345'],
    ['  b8a44f 0a 0b 0c \n', 'B8A44F0A0B0C'],
  ])('normalises %j to %s', (input, expected) => {
    expect(parseSerial(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['too short', 'ACCC8E01234'],
    ['too long', 'ACCC8E0123456'],
    ['not hex', 'ACCC8E01234G'],
    ['empty', ''],
    ['only separators', '::--..'],
    ['a 0x prefix', '0xACCC8E012345'],
    ['an underscore separator', 'AC_CC_8E_01_23_45'],
    ['full-width digits', '０１２３４５６７８９ＡＢ'],
    ['a ligature that upper-cases to hex', '\uFB00CC8E012345'],
  ])('rejects a serial that is %s', (_label, input) => {
    const result = parseSerial(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid-serial');
      expect(result.error.message).toMatch(/12 hexadecimal digits/);
    }
  });

  it.each([[undefined], [null], [0xaccc8e012345], [{ serial: 'ACCC8E012345' }]])(
    'rejects the non-string %j',
    (input) => {
      const result = parseSerial(input);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('invalid-serial');
    },
  );

  it('reports the length it counted without separators', () => {
    const result = parseSerial('AC:CC:8E');
    expect(!result.ok && result.error.details).toEqual({ length: 6 });
  });

  it('accepts any spelling of a serial and returns its canonical form', () => {
    fc.assert(
      fc.property(spelledSerial, (input) => {
        const result = parseSerial(input);
        const expected = input.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
        expect(result).toEqual({ ok: true, value: expected });
      }),
    );
  });

  it('accepts only inputs whose non-separator characters are 12 ASCII hex digits', () => {
    // Mostly hex digits, so that near-serials with one stray character are common.
    const stray = fc.oneof(
      fc.constantFrom('\uFB00', '\u0131', '\u017F', 'g', '_', '/'),
      fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
    );
    const character = fc.oneof(
      { weight: 8, arbitrary: hexDigit },
      { weight: 2, arbitrary: separator },
      { weight: 1, arbitrary: stray },
    );
    fc.assert(
      fc.property(fc.array(character, { maxLength: 16 }), (characters) => {
        const input = characters.join('');
        const compact = input.replace(/[\s:\-.]/g, '');
        const result = parseSerial(input);
        expect(result.ok).toBe(/^[0-9a-fA-F]{12}$/.test(compact));
        if (result.ok) expect(result.value).toBe(compact.toUpperCase());
      }),
    );
  });
});

describe('normalizeSerial', () => {
  it('is idempotent', () => {
    fc.assert(
      fc.property(spelledSerial, (input) => {
        const once = normalizeSerial(input);
        expect(normalizeSerial(once)).toBe(once);
      }),
    );
  });

  it('throws the DomainError that parseSerial returns', () => {
    expect(() => normalizeSerial('not a serial')).toThrow(DomainError);
    expect(() => normalizeSerial(42)).toThrow(
      expect.objectContaining({
        code: 'invalid-serial',
        message: 'A serial number must be a string.',
      }),
    );
  });
});

describe('isValidSerial', () => {
  it('tells valid serials from invalid ones', () => {
    expect(isValidSerial('00:40:8c:12:34:56')).toBe(true);
    expect(isValidSerial('00:40:8c:12:34')).toBe(false);
    expect(isValidSerial(undefined)).toBe(false);
  });
});

describe('SerialSchema', () => {
  it('outputs the canonical serial', () => {
    expect(SerialSchema.parse('e8:27:25:aa:bb:cc')).toBe('E82725AABBCC');
  });

  it('rejects an invalid serial with the explanation from parseSerial', () => {
    const result = SerialSchema.safeParse('E82725AABB');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/12 hexadecimal digits/);
  });

  it('rejects non-strings', () => {
    expect(SerialSchema.safeParse(123456789012).success).toBe(false);
  });
});

describe('serial and MAC address', () => {
  it('formats a serial as a colon-separated upper-case MAC address', () => {
    expect(serialToMac('accc8e012345')).toBe('AC:CC:8E:01:23:45');
  });

  it('turns a MAC address into its serial', () => {
    expect(macToSerial('ac-cc-8e-01-23-45')).toBe('ACCC8E012345');
  });

  it('refuses to convert something that is not a serial or MAC address', () => {
    expect(() => serialToMac('ACCC8E')).toThrow(
      expect.objectContaining({ code: 'invalid-serial' }),
    );
    expect(() => macToSerial('AC:CC:8E:01:23:45:67')).toThrow(
      expect.objectContaining({ code: 'invalid-serial' }),
    );
  });

  it('round-trips any serial through its MAC address', () => {
    fc.assert(
      fc.property(canonicalSerial, (serial) => {
        const mac = serialToMac(serial);
        expect(mac).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
        expect(macToSerial(mac)).toBe(serial);
      }),
    );
  });

  it('round-trips any spelling of a MAC address through its serial', () => {
    fc.assert(
      fc.property(spelledSerial, (mac) => {
        expect(serialToMac(macToSerial(mac))).toBe(serialToMac(mac));
        expect(macToSerial(serialToMac(mac))).toBe(normalizeSerial(mac));
      }),
    );
  });
});

describe('hasAxisOui', () => {
  it('lists the four Axis OUIs', () => {
    expect(AXIS_OUIS).toEqual(['00408C', 'ACCC8E', 'B8A44F', 'E82725']);
  });

  it.each(AXIS_OUIS)('recognises the Axis OUI %s in any spelling', (oui) => {
    const serial = `${oui}123456`;
    expect(hasAxisOui(serial)).toBe(true);
    expect(hasAxisOui(serialToMac(serial).toLowerCase())).toBe(true);
  });

  it('does not recognise other prefixes or invalid serials', () => {
    expect(hasAxisOui('001122334455')).toBe(false);
    expect(hasAxisOui('ACCC8E')).toBe(false);
    expect(hasAxisOui('12ACCC8E3456')).toBe(false);
  });

  it('is a hint only: a serial with a foreign OUI is still valid', () => {
    expect(hasAxisOui('02005E000001')).toBe(false);
    expect(isValidSerial('02005E000001')).toBe(true);
    expect(SerialSchema.parse('02:00:5e:00:00:01')).toBe('02005E000001');
  });
});
