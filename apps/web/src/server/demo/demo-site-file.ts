import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { pickPort } from './pick-port.ts';

/**
 * What the demo needs to know of a simulator site file; the simulator validates the rest when
 * it starts. The file stays the simulator's: only its address base and HTTP port are set here.
 */
const SiteFileSchema = z.looseObject({
  name: z.string().min(1).optional(),
  addressPool: z.literal('loopback-ips').optional(),
  addressBase: z.ipv4().startsWith('127.').optional(),
  cameras: z.array(z.looseObject({ count: z.number().int().min(1).optional() })).min(1),
});

/** The simulator's own default (packages/simulator). */
const SIMULATOR_ADDRESS_BASE = '127.77.0.1';
/**
 * The agent scans the /26 around the address base: room for the cameras and for the new
 * addresses a hard factory default or a button reset moves them to.
 */
const SCAN_PREFIX = 26;

export interface DemoSitePlan {
  name: string;
  cameraCount: number;
  /** The first camera's address; the others follow it. */
  addressBase: string;
  /** What the agent scans. */
  cidr: string;
  /** Every camera's HTTP port. */
  cameraPort: number;
  /** The site file the simulator runs. */
  file: string;
}

function toNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function scanRangeOf(addressBase: string, prefix = SCAN_PREFIX): string {
  const size = 2 ** (32 - prefix);
  return `${toAddress(Math.floor(toNumber(addressBase) / size) * size)}/${prefix}`;
}

/** The address of the `index`th camera (0-based) as the simulator hands them out. */
export function cameraAddress(addressBase: string, index: number): string {
  return toAddress(toNumber(addressBase) + index);
}

/**
 * Reads the demo's site description and writes the copy the simulator runs: every camera on
 * one HTTP port, so the agent's range scan finds them (`preferredPort` when it is free, 0 for
 * any), and, when given, another address base (tests keep away from a running demo that way).
 */
export async function writeDemoSiteFile(options: {
  source: string;
  target: string;
  preferredPort: number;
  addressBase?: string | undefined;
}): Promise<DemoSitePlan> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(options.source, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the demo site ${options.source}`, { cause: error });
  }
  const parsed = SiteFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `The demo site ${options.source} is not a loopback site: ${z.prettifyError(parsed.error)}`,
    );
  }
  const addressBase = options.addressBase ?? parsed.data.addressBase ?? SIMULATOR_ADDRESS_BASE;
  const cameraPort = await pickPort(addressBase, options.preferredPort);
  const site = {
    ...parsed.data,
    addressPool: 'loopback-ips',
    addressBase,
    ports: { http: cameraPort },
  };
  await mkdir(dirname(options.target), { recursive: true });
  await writeFile(options.target, `${JSON.stringify(site, null, 2)}\n`);
  return {
    name: parsed.data.name ?? 'Demo site',
    cameraCount: parsed.data.cameras.reduce((total, entry) => total + (entry.count ?? 1), 0),
    addressBase,
    cidr: scanRangeOf(addressBase),
    cameraPort,
    file: options.target,
  };
}
