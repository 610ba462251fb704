import { AuditFindingSchema, IdSchema, type AuditFinding } from '@custody/core';
import {
  AUDIT_EXPORT_FORMATS,
  AUDIT_EXPORT_VIEWS,
  AUDIT_MEDIA_TYPES,
  auditAuditExport,
  buildAuditReport,
  renderAuditCamerasCsv,
  renderAuditJson,
  renderAuditSitesCsv,
  type AuditExportFormat,
  type AuditExportView,
} from '../services/fleet-audit/audit-export.ts';
import {
  contentDisposition,
  errorResponse,
  responseForError,
  type RouteDependencies,
} from './route-support.ts';

function oneOf<T extends string>(values: readonly T[], value: string): T | null {
  return (values as readonly string[]).includes(value) ? (value as T) : null;
}

interface ExportQuery {
  format: AuditExportFormat;
  view: AuditExportView;
  orgId?: string | undefined;
  siteId?: string | undefined;
  finding?: AuditFinding | undefined;
}

/** The query string, or the message of a 400 naming what is wrong with it. */
function exportQueryOf(request: Request): ExportQuery | string {
  const params = new URL(request.url).searchParams;
  const format = oneOf(AUDIT_EXPORT_FORMATS, params.get('format') ?? 'csv');
  if (format === null) return 'The format is csv or json.';
  const view = oneOf(AUDIT_EXPORT_VIEWS, params.get('view') ?? 'cameras');
  if (view === null) return 'The view is cameras or sites.';
  const query: ExportQuery = { format, view };
  for (const [name, key] of [
    ['org', 'orgId'],
    ['site', 'siteId'],
  ] as const) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    if (!IdSchema.safeParse(value).success) return `The ${name} parameter is not an id.`;
    query[key] = value;
  }
  const finding = params.get('finding');
  if (finding !== null && finding !== '') {
    const parsed = AuditFindingSchema.safeParse(finding);
    if (!parsed.success) return 'No such finding.';
    query.finding = parsed.data;
  }
  return query;
}

/**
 * GET /api/fleet-audit/export?format=csv|json[&view=cameras|sites][&site=<id>][&finding=<code>]
 * [&org=<id>]: the fleet documentation audit of the caller's organisation, fleet-wide or for one
 * site, as a download. Audited.
 */
export async function handleFleetAuditExport(
  request: Request,
  deps: RouteDependencies,
): Promise<Response> {
  const actor = await deps.actorOf(request);
  if (!actor) return errorResponse(401, 'Sign in first.');
  const query = exportQueryOf(request);
  if (typeof query === 'string') return errorResponse(400, query);
  try {
    const report = await buildAuditReport(deps.db, actor, query);
    const body =
      query.format === 'json'
        ? renderAuditJson(report)
        : query.view === 'sites'
          ? renderAuditSitesCsv(report)
          : renderAuditCamerasCsv(report);
    await auditAuditExport(deps.db, actor, report, query);
    const day = report.generatedAt.toISOString().slice(0, 10);
    const scope =
      report.siteId === null
        ? 'fleet'
        : `site-${report.sites[0]?.siteName ?? report.siteId}`
            .normalize('NFKD')
            .replace(/[^\w-]+/g, '-')
            .toLowerCase()
            .slice(0, 60);
    const part = query.format === 'csv' ? `-${query.view}` : '';
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': AUDIT_MEDIA_TYPES[query.format],
        'content-disposition': contentDisposition(
          'attachment',
          `fleet-audit-${scope}${part}-${day}.${query.format}`,
        ),
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-store',
      },
    });
  } catch (error) {
    return responseForError(error, 'The export');
  }
}
