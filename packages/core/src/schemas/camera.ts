import { z } from 'zod';
import { SerialSchema } from '../serial.ts';
import { IdSchema, IpAddressSchema, TimestampSchema } from './common.ts';

export const ACCESS_STATES = [
  'authenticated',
  'needs-setup',
  'login-failed',
  'locked-out',
  'unreachable',
] as const;
export type AccessState = (typeof ACCESS_STATES)[number];
export const AccessStateSchema = z.enum(ACCESS_STATES);

/** How an address was learned; link-local and 192.168.0.90 matter while a reset camera returns. */
export const ADDRESS_SOURCES = [
  'ssdp',
  'mdns',
  'scan',
  'dhcp',
  'link-local',
  'default-ip',
  'manual',
] as const;
export type AddressSource = (typeof ADDRESS_SOURCES)[number];

export const CameraAddressSchema = z.object({
  address: IpAddressSchema,
  seenAt: TimestampSchema,
  source: z.enum(ADDRESS_SOURCES),
});
export type CameraAddress = z.infer<typeof CameraAddressSchema>;

const DeviceTextSchema = z.string().trim().min(1).max(200);

/**
 * One camera per serial. Model, firmware and hardware id are nullable because an unreachable or
 * locked camera may be known only by its serial until it can be probed.
 */
export const CameraSchema = z.object({
  serial: SerialSchema,
  siteId: IdSchema,
  model: DeviceTextSchema.nullable(),
  productName: DeviceTextSchema.nullable(),
  firmware: DeviceTextSchema.nullable(),
  hardwareId: DeviceTextSchema.nullable(),
  addresses: z.array(CameraAddressSchema).default([]),
  lastSeenAt: TimestampSchema.nullable(),
  accessState: AccessStateSchema,
});
export type Camera = z.infer<typeof CameraSchema>;
