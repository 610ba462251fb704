import { z } from 'zod';
import { FIRMWARE_IDS } from './firmware-profiles.ts';
import { CAMERA_FAULTS, type AddCameraOptions, type SimulatedCamera } from './simulated-camera.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import { ROLES } from './user-accounts.ts';

const milliseconds = z.number().min(0).max(3_600_000);
const port = z.number().int().min(0).max(65535);

const UserSchema = z.strictObject({
  username: z.string().regex(/^[A-Za-z0-9]{1,14}$/, '1-14 characters a-z A-Z 0-9'),
  password: z.string().regex(/^[\x20-\x7e]{1,64}$/, '1-64 printable ASCII characters'),
  role: z.enum(ROLES),
});

const CameraEntrySchema = z
  .strictObject({
    count: z.number().int().min(1).max(5000).optional(),
    firmware: z.enum(FIRMWARE_IDS),
    serial: z
      .string()
      .regex(/^[0-9A-Fa-f]{12}$/, 'a serial is 12 hexadecimal digits (the MAC without separators)')
      .optional(),
    model: z.string().min(1).max(40).optional(),
    productName: z.string().min(1).max(80).optional(),
    hardwareId: z.string().min(1).max(20).optional(),
    state: z.enum(['factory-default', 'configured']).optional(),
    users: z.array(UserSchema).optional(),
    https: z.boolean().optional(),
    rtsp: z.boolean().optional(),
    latencyMs: milliseconds.optional(),
    jitterMs: milliseconds.optional(),
    dropRate: z.number().min(0).max(1).optional(),
    dropAfterRate: z.number().min(0).max(1).optional(),
    rebootMs: milliseconds.optional(),
    readyDelayMs: milliseconds.optional(),
    fault: z.enum(CAMERA_FAULTS).optional(),
    params: z.record(z.string(), z.string()).optional(),
    recordings: z.number().int().min(0).max(1000).optional(),
  })
  .refine((entry) => !(entry.serial && (entry.count ?? 1) > 1), {
    message: 'serial names one camera: drop it or drop count',
    path: ['serial'],
  })
  .refine((entry) => !(entry.state === 'factory-default' && (entry.users?.length ?? 0) > 0), {
    message: 'a factory-default camera has no users',
    path: ['users'],
  });

export const SiteSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  addressPool: z.enum(['loopback-ips', 'ports']).optional(),
  addressBase: z.ipv4().startsWith('127.', 'addressBase must be in 127.0.0.0/8').optional(),
  host: z.ipv4().optional(),
  ports: z.strictObject({ http: port, https: port, rtsp: port }).partial().optional(),
  latencyMs: milliseconds.optional(),
  jitterMs: milliseconds.optional(),
  dropRate: z.number().min(0).max(1).optional(),
  dropAfterRate: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  timeScale: z.number().positive().max(100_000).optional(),
  rebootMs: milliseconds.optional(),
  readyDelayMs: milliseconds.optional(),
  announce: z
    .strictObject({
      interfaceAddress: z.ipv4(),
      ssdp: z.boolean().optional(),
      mdns: z.boolean().optional(),
    })
    .optional(),
  controlPort: port.optional(),
  cameras: z.array(CameraEntrySchema).min(1, 'a site needs at least one camera'),
});

export type Site = z.infer<typeof SiteSchema>;

export type ParsedSite = { ok: true; site: Site } | { ok: false; error: string };

/** Validates a site description; the error lists every problem with its path. */
export function parseSite(input: unknown): ParsedSite {
  const parsed = SiteSchema.safeParse(input);
  if (parsed.success) return { ok: true, site: parsed.data };
  return { ok: false, error: z.prettifyError(parsed.error) };
}

export function countCameras(site: Site): number {
  return site.cameras.reduce((total, entry) => total + (entry.count ?? 1), 0);
}

/** Starts a simulator with every camera of the site, reporting each as it comes up. */
export async function startSite(
  site: Site,
  onCamera?: (camera: SimulatedCamera, index: number, total: number) => void,
): Promise<Simulator> {
  const simulator = await createSimulator({
    host: site.host,
    addressPool: site.addressPool,
    addressBase: site.addressBase,
    ports: site.ports,
    latencyMs: site.latencyMs,
    jitterMs: site.jitterMs,
    dropRate: site.dropRate,
    dropAfterRate: site.dropAfterRate,
    seed: site.seed,
    timeScale: site.timeScale,
    rebootMs: site.rebootMs,
    readyDelayMs: site.readyDelayMs,
    announce: site.announce,
    controlPort: site.controlPort ?? 0,
  });
  const total = countCameras(site);
  let index = 0;
  try {
    for (const entry of site.cameras) {
      const { count = 1, ...camera } = entry;
      for (let n = 0; n < count; n += 1) {
        const options: AddCameraOptions = { ...camera };
        const started = await simulator.addCamera(options);
        index += 1;
        onCamera?.(started, index, total);
      }
    }
  } catch (error) {
    await simulator.close();
    throw error;
  }
  return simulator;
}
