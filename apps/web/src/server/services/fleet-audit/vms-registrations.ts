import { DomainError, SerialSchema, parseSerial } from '@custody/core';
import type { Database } from '@custody/db';
import { cameras, sites, vmsRegistrations } from '@custody/db/schema';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { accessibleSitesCondition, grantedIntegratorOrgIds } from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import { VMS_WRITER_ROLES } from './audit-scope.ts';

export const VMS_SOURCES = ['case', 'import', 'manual'] as const;
export type VmsSource = (typeof VMS_SOURCES)[number];

const PlatformSchema = z.string().trim().max(200, 'At most 200 characters.');

/**
 * Records, inside the caller's transaction, that a case's camera was re-added to the VMS: the
 * confirmation on the case is the evidence, so the audit stops reporting it.
 */
export async function recordVmsRegistration(
  tx: Executor,
  entry: { serial: string; platform: string; source: VmsSource; confirmedBy: string | null },
): Promise<void> {
  await recordVmsRegistrations(tx, [entry.serial], entry);
}

const WRITE_CHUNK = 1_000;

/** Upserts a registration for each serial, a chunk per statement. */
async function recordVmsRegistrations(
  tx: Executor,
  serials: readonly string[],
  entry: { platform: string; source: VmsSource; confirmedBy: string | null },
): Promise<void> {
  const confirmedAt = new Date();
  for (let start = 0; start < serials.length; start += WRITE_CHUNK) {
    await tx
      .insert(vmsRegistrations)
      .values(
        serials.slice(start, start + WRITE_CHUNK).map((serial) => ({
          serial,
          platform: entry.platform,
          source: entry.source,
          confirmedBy: entry.confirmedBy,
          confirmedAt,
        })),
      )
      .onConflictDoUpdate({
        target: vmsRegistrations.serial,
        set: {
          platform: sql`excluded.platform`,
          source: sql`excluded.source`,
          confirmedBy: sql`excluded.confirmed_by`,
          confirmedAt: sql`excluded.confirmed_at`,
        },
      });
  }
}

/** The actor as far as its roles that may record VMS registrations reach. */
function asVmsWriter(actor: Actor): Actor {
  const memberships = actor.memberships.filter((m) => VMS_WRITER_ROLES.includes(m.role));
  if (memberships.length === 0) {
    throw new DomainError(
      'forbidden',
      `You need to be ${VMS_WRITER_ROLES.join(' or ')} to record VMS registrations.`,
      { details: { roles: VMS_WRITER_ROLES } },
    );
  }
  return { ...actor, memberships };
}

interface WritableCamera {
  serial: string;
  siteId: string;
  ownerOrgId: string;
}

const LOOKUP_CHUNK = 5_000;

/** The cameras among `serials` the writer may see, in chunks that keep to the bind limit. */
async function writableCameras(
  db: Executor,
  writer: Actor,
  serials: readonly string[],
): Promise<WritableCamera[]> {
  const found: WritableCamera[] = [];
  for (let start = 0; start < serials.length; start += LOOKUP_CHUNK) {
    const chunk = serials.slice(start, start + LOOKUP_CHUNK);
    found.push(
      ...(await db
        .select({ serial: cameras.serial, siteId: cameras.siteId, ownerOrgId: sites.ownerOrgId })
        .from(cameras)
        .innerJoin(sites, eq(sites.id, cameras.siteId))
        .where(and(inArray(cameras.serial, chunk), accessibleSitesCondition(db, writer)))),
    );
  }
  return found;
}

/** The organisation the writer acts for at a site: its owner, or an integrator granted it. */
async function actingOrgId(db: Executor, writer: Actor, camera: WritableCamera) {
  if (writer.memberships.some((m) => m.orgId === camera.ownerOrgId)) return camera.ownerOrgId;
  const [integrator] = await grantedIntegratorOrgIds(db, writer, camera.siteId, VMS_WRITER_ROLES);
  return integrator ?? null;
}

/** One audit event per site, with the serials it concerns. */
async function auditPerSite(
  tx: Executor,
  writer: Actor,
  found: readonly WritableCamera[],
  action: string,
  data: Record<string, unknown>,
) {
  const bySite = new Map<string, WritableCamera[]>();
  for (const camera of found)
    bySite.set(camera.siteId, [...(bySite.get(camera.siteId) ?? []), camera]);
  for (const [siteId, siteCameras] of bySite) {
    await appendAuditEvent(tx, {
      orgId: await actingOrgId(tx, writer, siteCameras[0]!),
      siteId,
      actor: { kind: 'user', id: writer.userId },
      action,
      subject: { kind: 'site', id: siteId },
      data: { ...data, serials: siteCameras.map((camera) => camera.serial).sort() },
    });
  }
}

export const MarkVmsInputSchema = z.object({
  serials: z.array(SerialSchema).min(1, 'Choose at least one camera.').max(500),
  platform: PlatformSchema.default(''),
  /** False removes the registration (the camera was taken out of the VMS, or marked by mistake). */
  registered: z.boolean().default(true),
});

/** Marks cameras as in the VMS (or not) by hand, all or none, audited per site. */
export async function markVmsRegistrations(
  db: Database,
  actor: Actor,
  input: z.input<typeof MarkVmsInputSchema>,
): Promise<{ changed: number }> {
  const parsed = MarkVmsInputSchema.parse(input);
  const writer = asVmsWriter(actor);
  const serials = [...new Set(parsed.serials)];
  return db.transaction(async (tx) => {
    const found = await writableCameras(tx, writer, serials);
    if (found.length !== serials.length) {
      const known = new Set(found.map((camera) => camera.serial));
      const missing = serials.filter((serial) => !known.has(serial));
      throw new DomainError('not-found', `No such camera: ${missing.join(', ')}.`, {
        details: { serials: missing },
      });
    }
    if (parsed.registered) {
      await recordVmsRegistrations(tx, serials, {
        platform: parsed.platform,
        source: 'manual',
        confirmedBy: actor.userId,
      });
    } else {
      await tx.delete(vmsRegistrations).where(inArray(vmsRegistrations.serial, serials));
    }
    await auditPerSite(
      tx,
      writer,
      found,
      parsed.registered ? 'vms-registration.marked' : 'vms-registration.removed',
      parsed.registered ? { platform: parsed.platform } : {},
    );
    return { changed: serials.length };
  });
}

export interface VmsListLine {
  line: number;
  serial: string;
}

export interface VmsListError {
  line: number;
  /** The line as it was, shortened. */
  text: string;
  reason: string;
}

export const MAX_VMS_LIST_LINES = 20_000;

/** The cells of a CSV line (comma, semicolon or tab separated; double quotes for text). */
function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index]!;
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (char === ',' || char === ';' || char === '\t') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * Reads the camera list a VMS exports: one camera per line, either a bare serial or MAC address,
 * or CSV whose header names a serial or MAC column (otherwise the first cell that reads as one
 * is taken). Blank lines and `#` comments are skipped; a first line without any serial is a
 * header. Every other line must yield a serial, or it is reported with its number.
 */
export function parseVmsList(text: string): { serials: VmsListLine[]; errors: VmsListError[] } {
  const lines = text.split(/\r\n|\n|\r/);
  const serials: VmsListLine[] = [];
  const errors: VmsListError[] = [];
  let column: number | null = null;
  let seenContent = false;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = cellsOf(line);
    const first = !seenContent;
    seenContent = true;
    if (column !== null) {
      const parsed = parseSerial(cells[column] ?? '');
      if (parsed.ok) serials.push({ line: index + 1, serial: parsed.value });
      else
        errors.push({
          line: index + 1,
          text: line.slice(0, 120),
          reason: `Column ${column + 1} is not a serial number or MAC address.`,
        });
      return;
    }
    const found = cells.map((cell) => parseSerial(cell)).find((result) => result.ok);
    if (found?.ok) {
      serials.push({ line: index + 1, serial: found.value });
      return;
    }
    if (first) {
      const named = cells.findIndex((cell) => /serial|mac/i.test(cell));
      if (named >= 0) column = named;
      return;
    }
    errors.push({
      line: index + 1,
      text: line.slice(0, 120),
      reason: 'No serial number or MAC address on this line.',
    });
  });
  return { serials, errors };
}

export const ImportVmsInputSchema = z.object({
  /** The list as exported by the VMS. */
  text: z.string().max(2_000_000, 'At most 2 MB: split the list.'),
  platform: PlatformSchema.min(1, 'Name the VMS (e.g. AXIS Camera Station).'),
  /** Check the list and report, without recording anything. */
  dryRun: z.boolean().default(false),
});

export interface VmsImportReport {
  /** Whether anything was recorded: never when a line is bad, nor on a dry run. */
  applied: boolean;
  /** Cameras of the list found in your fleet. */
  matched: number;
  /** Of those, cameras not registered before. */
  added: number;
  /** Well-formed serials that are not cameras of your sites (other equipment, other sites). */
  unknown: string[];
  errors: VmsListError[];
}

/**
 * Imports the VMS's camera list: every line must read, or nothing is recorded and the bad lines
 * are reported. Serials that are not cameras of the actor's sites are listed and left out.
 */
export async function importVmsRegistrations(
  db: Database,
  actor: Actor,
  input: z.input<typeof ImportVmsInputSchema>,
): Promise<VmsImportReport> {
  const parsed = ImportVmsInputSchema.parse(input);
  const writer = asVmsWriter(actor);
  const list = parseVmsList(parsed.text);
  if (list.serials.length + list.errors.length > MAX_VMS_LIST_LINES) {
    throw new DomainError(
      'invalid-input',
      `At most ${MAX_VMS_LIST_LINES.toLocaleString('en')} cameras per import: split the list.`,
      { details: { field: 'text' } },
    );
  }
  if (list.serials.length === 0 && list.errors.length === 0) {
    throw new DomainError('invalid-input', 'The list has no camera in it.', {
      details: { field: 'text' },
    });
  }
  const serials = [...new Set(list.serials.map((entry) => entry.serial))];
  return db.transaction(async (tx) => {
    const found = await writableCameras(tx, writer, serials);
    const known = new Set(found.map((camera) => camera.serial));
    const existing = new Set<string>();
    for (let start = 0; start < found.length; start += LOOKUP_CHUNK) {
      const chunk = found.slice(start, start + LOOKUP_CHUNK).map((camera) => camera.serial);
      const rows = await tx
        .select({ serial: vmsRegistrations.serial })
        .from(vmsRegistrations)
        .where(inArray(vmsRegistrations.serial, chunk));
      for (const row of rows) existing.add(row.serial);
    }
    const report: VmsImportReport = {
      applied: false,
      matched: found.length,
      added: found.filter((camera) => !existing.has(camera.serial)).length,
      unknown: serials.filter((serial) => !known.has(serial)),
      errors: list.errors,
    };
    if (list.errors.length > 0 || parsed.dryRun || found.length === 0) return report;
    await recordVmsRegistrations(
      tx,
      found.map((camera) => camera.serial),
      { platform: parsed.platform, source: 'import', confirmedBy: actor.userId },
    );
    await auditPerSite(tx, writer, found, 'vms-registration.imported', {
      platform: parsed.platform,
    });
    return { ...report, applied: true };
  });
}
