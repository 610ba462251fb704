import { z } from 'zod';

/**
 * A JSON object reduced to its string-like members, as a null-prototype record so device
 * keys such as `__proto__` or `toString` stay plain data.
 */
export const StringRecordSchema = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    { message: 'expected an object' },
  )
  .transform((value) => {
    const record = Object.create(null) as Record<string, string>;
    for (const [key, member] of Object.entries(value)) {
      if (typeof member === 'string') record[key] = member;
      else if (typeof member === 'number' || typeof member === 'boolean')
        record[key] = String(member);
    }
    return record;
  });

/** `yes`/`no` (any case) as a boolean; anything else is unknown. */
export function yesNo(value: string | undefined): boolean | undefined {
  const normalized = value?.trim().toLowerCase();
  if (normalized === 'yes' || normalized === 'true' || normalized === 'on') return true;
  if (normalized === 'no' || normalized === 'false' || normalized === 'off') return false;
  return undefined;
}

/** A non-negative integer from a device string, or undefined. */
export function nonNegativeInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}
