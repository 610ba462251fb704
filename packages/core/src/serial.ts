import { z } from 'zod';
import { DomainError } from './domain-error.ts';
import { err, ok } from './result.ts';
import type { Result } from './result.ts';

/**
 * An AXIS serial number is the MAC address without separators: 12 upper-case hex digits.
 * Identity in Custody hangs on it, never on an IP address.
 */
export type Serial = string;

const SEPARATORS = /[\s:\-.]/g;
// Checked before upper-casing: toUpperCase maps some non-ASCII characters onto hex letters
// (the ligature U+FB00 becomes "FF"), which would otherwise let a mistyped label pass as a serial.
const TWELVE_HEX = /^[0-9A-Fa-f]{12}$/;

/**
 * Accepts the spellings people and devices actually use ("accc8e-01:23:45", "AC:CC:8E:01:23:45",
 * "accc8e012345", "ACCC.8E01.2345", surrounding or inner whitespace) and returns the canonical
 * form. Separators may appear anywhere because labels, spreadsheets and tools disagree on them.
 */
export function parseSerial(input: unknown): Result<Serial, DomainError> {
  if (typeof input !== 'string') {
    return err(new DomainError('invalid-serial', 'A serial number must be a string.'));
  }
  const compact = input.replace(SEPARATORS, '');
  if (!TWELVE_HEX.test(compact)) {
    return err(
      new DomainError(
        'invalid-serial',
        'A serial number is 12 hexadecimal digits (the MAC address), optionally separated by ":", "-" or ".".',
        { details: { length: compact.length } },
      ),
    );
  }
  return ok(compact.toUpperCase());
}

export function normalizeSerial(input: unknown): Serial {
  const result = parseSerial(input);
  if (!result.ok) throw result.error;
  return result.value;
}

export function isValidSerial(input: unknown): boolean {
  return parseSerial(input).ok;
}

/** Parses and normalises, so schema output is always the canonical 12 upper-case hex. */
export const SerialSchema = z.string().transform((input, ctx): Serial => {
  const result = parseSerial(input);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: result.error.message });
    return z.NEVER;
  }
  return result.value;
});

export function serialToMac(serial: string): string {
  const canonical = normalizeSerial(serial);
  return canonical.match(/../g)!.join(':');
}

export function macToSerial(mac: string): Serial {
  return normalizeSerial(mac);
}

/** Organisationally unique identifiers registered to Axis Communications. */
export const AXIS_OUIS = ['00408C', 'ACCC8E', 'B8A44F', 'E82725'] as const;

/**
 * A hint for discovery and display, never a rule: Axis may register new OUIs, OEM and
 * rebranded devices exist, and the simulator may use any prefix. Do not refuse a camera on it.
 */
export function hasAxisOui(serial: string): boolean {
  const result = parseSerial(serial);
  if (!result.ok) return false;
  return (AXIS_OUIS as readonly string[]).includes(result.value.slice(0, 6));
}
