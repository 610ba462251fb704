import { z } from 'zod';

export const IdSchema = z.uuid();
export type Id = z.infer<typeof IdSchema>;

/**
 * Accepts a Date (database rows) or an ISO-8601 string with offset (JSON on the wire) and always
 * yields a valid Date, so the same schema serves drizzle results and protocol messages.
 */
export const TimestampSchema = z.union([
  z.date(),
  z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
]);
export type Timestamp = z.infer<typeof TimestampSchema>;

export const TextSchema = z.string().trim().min(1).max(500);

export const IpAddressSchema = z.union([z.ipv4(), z.ipv6()]);
