import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../cli-io.ts';
import { expandCidr, parsePorts } from '../discovery/cidr.ts';
import {
  mergeSightings,
  type DiscoveredCamera,
  type Sighting,
} from '../discovery/discovered-camera.ts';
import { browseMdns } from '../discovery/mdns-browse.ts';
import { scanRange, type RangeScanProgress } from '../discovery/range-scan.ts';
import { searchSsdp } from '../discovery/ssdp-search.ts';

export const DISCOVER_USAGE = `Usage:
  custody-agent discover [--cidr CIDR --ports 80,443] [--ssdp] [--mdns] [--timeout S]
                         [--interface ADDRESS] [--json]

Finds AXIS devices anonymously and merges what each method saw by serial.

Options:
  --cidr CIDR           probe every address in an IPv4 range (at most a /16)
  --ports LIST          TCP ports for --cidr (default 80); 443 is probed over https
  --ssdp                send the AXIS SSDP search (UDP multicast 239.255.255.250:1900)
  --mdns                browse _axis-video._tcp and friends over mDNS (224.0.0.251:5353)
  --timeout S           seconds to listen for SSDP/mDNS answers, and per probe (default 3)
  --interface ADDRESS   local IPv4 address whose interface sends multicast
  --json                print a JSON array
  -h, --help            show this help

At least one of --cidr, --ssdp and --mdns is required.
`;

function formatCameras(cameras: readonly DiscoveredCamera[]): string {
  if (cameras.length === 0) return 'No AXIS devices found.\n';
  const rows = cameras.map((camera) => [
    camera.serial,
    camera.model ?? camera.productName ?? '?',
    camera.firmware ?? '',
    camera.addresses
      .map((address) => (address.port === null ? address.host : `${address.host}:${address.port}`))
      .join(' '),
    camera.sources.join(','),
  ]);
  const header = ['SERIAL', 'MODEL', 'FIRMWARE', 'ADDRESSES', 'FOUND BY'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const noun = cameras.length === 1 ? 'device' : 'devices';
  return `${[format(header), ...rows.map(format)].join('\n')}\n${cameras.length} AXIS ${noun}\n`;
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 3_000;
  const seconds = Number(text);
  if (!(seconds > 0 && seconds <= 300)) {
    throw new UsageError(`--timeout takes seconds between 0 and 300, not "${text}"`);
  }
  return Math.round(seconds * 1000);
}

export async function runDiscoverCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: false,
    strict: true,
    options: {
      cidr: { type: 'string' },
      ports: { type: 'string' },
      ssdp: { type: 'boolean' },
      mdns: { type: 'boolean' },
      timeout: { type: 'string' },
      interface: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(DISCOVER_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('discover takes no positional arguments');
  if (values.cidr === undefined && !values.ssdp && !values.mdns) {
    throw new UsageError('choose what to discover with: --cidr, --ssdp and/or --mdns');
  }
  if (values.ports !== undefined && values.cidr === undefined) {
    throw new UsageError('--ports only applies to a --cidr range scan');
  }
  let range;
  let ports: number[] = [80];
  try {
    range = values.cidr === undefined ? undefined : expandCidr(values.cidr);
    if (values.ports !== undefined) ports = parsePorts(values.ports);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const timeoutMs = parseTimeout(values.timeout);
  const interfaceAddress = values.interface;

  const progress = (update: RangeScanProgress) => {
    if (!io.isTTY || range === undefined) return;
    io.stderr.write(
      `\r\u001b[2Kscanning ${range.cidr}: ${update.done}/${update.total} endpoints, ${update.found} AXIS`,
    );
  };
  const tasks: Promise<Sighting[]>[] = [];
  const warnings: string[] = [];
  if (range !== undefined) {
    tasks.push(
      scanRange({
        hosts: range.hosts,
        ports,
        timeoutMs,
        signal: io.signal,
        onProgress: progress,
      }).then(({ sightings, failures }) => {
        if (io.isTTY) io.stderr.write('\r\u001b[2K');
        if (failures.length > 0) {
          warnings.push(
            `${failures.length} endpoint(s) could not be probed, e.g. ${failures[0]?.url}: ${failures[0]?.message}`,
          );
        }
        return sightings;
      }),
    );
  }
  const multicast = async (name: string, run: () => Promise<Sighting[]>) => {
    try {
      return await run();
    } catch (error) {
      const cause = (error as Error).cause;
      const detail = cause instanceof Error ? `: ${cause.message}` : '';
      warnings.push(`${name} failed: ${(error as Error).message}${detail}`);
      return [];
    }
  };
  if (values.ssdp) {
    tasks.push(
      multicast('SSDP search', () =>
        searchSsdp({ timeoutMs, interfaceAddress, signal: io.signal }),
      ),
    );
  }
  if (values.mdns) {
    tasks.push(
      multicast('mDNS browse', () =>
        browseMdns({ timeoutMs, interfaceAddress, signal: io.signal }),
      ),
    );
  }
  const cameras = mergeSightings((await Promise.all(tasks)).flat());
  for (const warning of warnings) io.stderr.write(`custody-agent: ${warning}\n`);
  io.stdout.write(values.json ? `${JSON.stringify(cameras)}\n` : formatCameras(cameras));
  return 0;
}
