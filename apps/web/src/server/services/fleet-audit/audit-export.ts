import { AUDIT_FINDINGS, AUDIT_FINDING_DESCRIPTIONS, type AuditFinding } from '@custody/core';
import type { Database } from '@custody/db';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import { csvCell } from '../handover/handover-export.ts';
import {
  countFindings,
  inAuditTransaction,
  openAudit,
  queryFindings,
  sumCounts,
  type AuditCounts,
  type AuditedCamera,
  type FleetAuditSummary,
} from './audit-query.ts';

export const AUDIT_EXPORT_FORMATS = ['csv', 'json'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** CSV only: one row per camera with a finding, or one row per site and the fleet total. */
export const AUDIT_EXPORT_VIEWS = ['cameras', 'sites'] as const;
export type AuditExportView = (typeof AUDIT_EXPORT_VIEWS)[number];

export const AUDIT_MEDIA_TYPES: Record<AuditExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export interface AuditReport extends FleetAuditSummary {
  /** The one finding the cameras were filtered by, or null for any. */
  finding: AuditFinding | null;
  /** Every camera in scope with a finding (or with `finding`), by serial. */
  cameras: AuditedCamera[];
}

/** The audit and every camera behind it, read in one transaction so that they agree. */
export async function buildAuditReport(
  db: Database,
  actor: Actor,
  input: {
    orgId?: string | undefined;
    siteId?: string | undefined;
    finding?: AuditFinding | undefined;
  },
): Promise<AuditReport> {
  const context = await openAudit(db, actor, input);
  return inAuditTransaction(db, async (tx) => {
    const counted = await countFindings(tx, context);
    const page = await queryFindings(tx, context, { finding: input.finding, limit: null });
    return {
      organisation: context.organisation,
      generatedAt: context.now,
      settings: context.settings,
      firmwareBelowFloor: counted.firmwareBelowFloor,
      siteId: context.siteId,
      fleet: { ...sumCounts(counted.sites), sites: counted.sites.length },
      sites: counted.sites,
      finding: input.finding ?? null,
      cameras: page.items,
    };
  });
}

const label = (finding: AuditFinding) => AUDIT_FINDING_DESCRIPTIONS[finding].label;

/** The JSON export: the report as it is, with the catalogue of findings, dates as ISO strings. */
export function renderAuditJson(report: AuditReport): string {
  const catalog = AUDIT_FINDINGS.map((code) => ({ code, ...AUDIT_FINDING_DESCRIPTIONS[code] }));
  return `${JSON.stringify({ ...report, catalog }, null, 2)}\n`;
}

function csv(rows: string[][]): string {
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** One row per camera: where it is, what it is, and a column per finding. RFC 4180, CRLF. */
export function renderAuditCamerasCsv(report: AuditReport): string {
  const header = [
    'site',
    'site_id',
    'serial',
    'model',
    'firmware',
    'access_state',
    'last_seen_at',
    'findings',
    ...AUDIT_FINDINGS,
  ];
  const rows = report.cameras.map((camera) => [
    camera.siteName,
    camera.siteId,
    camera.serial,
    camera.model ?? '',
    camera.firmware ?? '',
    camera.accessState ?? '',
    camera.lastSeenAt.toISOString(),
    camera.findings.map(label).join('; '),
    ...AUDIT_FINDINGS.map((finding) => (camera.findings.includes(finding) ? 'yes' : '')),
  ]);
  return csv([header, ...rows]);
}

/** One row per site with its counts, then the fleet-wide total. */
export function renderAuditSitesCsv(report: AuditReport): string {
  const header = ['site', 'site_id', 'cameras', 'with_findings', ...AUDIT_FINDINGS];
  const counts = (entry: AuditCounts) => [
    String(entry.cameras),
    String(entry.withFindings),
    ...AUDIT_FINDINGS.map((finding) => String(entry.findings[finding])),
  ];
  return csv([
    header,
    ...report.sites.map((site) => [site.siteName, site.siteId, ...counts(site)]),
    ['Fleet-wide', '', ...counts(report.fleet)],
  ]);
}

/** The audit log's record of an export: who took which part of the audit, in what form. */
export async function auditAuditExport(
  db: Database,
  actor: Actor,
  report: AuditReport,
  input: { format: AuditExportFormat; view: AuditExportView },
): Promise<void> {
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      orgId: report.organisation.id,
      siteId: report.siteId,
      actor: { kind: 'user', id: actor.userId },
      action: 'fleet-audit.exported',
      subject: { kind: 'organisation', id: report.organisation.id },
      data: {
        format: input.format,
        view: input.view,
        finding: report.finding,
        cameras: report.cameras.length,
      },
    }),
  );
}
