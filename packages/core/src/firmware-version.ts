import { z } from 'zod';

/**
 * The numbers of an AXIS firmware version, as digit strings without leading zeros: "11.11.73"
 * is 11, 11, 73; "9.80.3.11_beta2" is 9, 80, 3, 11, 2. The fleet inventory sorts firmware the
 * same way in SQL (the runs of digits, compared as numbers), so the audit's floor and the
 * fleet's order agree.
 */
function versionNumbers(version: string): string[] {
  return (version.match(/[0-9]+/g) ?? []).map((digits) => digits.replace(/^0+(?=.)/, ''));
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two firmware versions: number by number (9.80 before 11.11.73 before 12.0, and a
 * version before its own extensions, 11.11 before 11.11.0), then by the text when the numbers
 * are equal. Negative when `a` comes first.
 */
export function compareFirmware(a: string, b: string): number {
  const left = versionNumbers(a);
  const right = versionNumbers(b);
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const order = compareDigits(left[index]!, right[index]!);
    if (order !== 0) return order;
  }
  if (left.length !== right.length) return left.length < right.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A version the device reported with no number in it ("unknown") cannot be compared. */
export function isComparableFirmware(version: string): boolean {
  return /[0-9]/.test(version);
}

/**
 * Whether `version` is older than `floor`. A missing or incomparable version is not below the
 * floor: the audit reports what it knows, and an unprobed camera shows up in other findings.
 */
export function isFirmwareBelow(version: string | null, floor: string | null): boolean {
  if (version === null || floor === null || !isComparableFirmware(version)) return false;
  return compareFirmware(version, floor) < 0;
}

/** The versions among `versions` that are below `floor`, each once. */
export function firmwareBelowFloor(versions: Iterable<string>, floor: string | null): string[] {
  if (floor === null) return [];
  return [...new Set(versions)].filter((version) => isFirmwareBelow(version, floor));
}

/** A floor as an administrator types it: numbers separated by dots ("11.11.73"). */
export const FirmwareFloorSchema = z
  .string()
  .trim()
  .regex(
    /^[0-9]{1,6}(\.[0-9]{1,6}){0,5}$/,
    'A firmware version is numbers separated by dots (e.g. 11.11.73).',
  );
