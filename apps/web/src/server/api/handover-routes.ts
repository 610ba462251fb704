import { IdSchema } from '@custody/core';
import {
  HANDOVER_FORMATS,
  HANDOVER_MEDIA_TYPES,
  renderHandoverCsv,
  renderHandoverJson,
  renderHandoverPdf,
  type HandoverFormat,
} from '../services/handover/handover-export.ts';
import {
  HANDOVER_EXPORT_STATUSES,
  auditHandoverExport,
  getHandover,
  listSiteHandovers,
  type HandoverRecord,
} from '../services/handover/handover-record.ts';
import {
  contentDisposition,
  errorResponse,
  responseForError,
  type RouteDependencies,
} from './route-support.ts';

function formatOf(request: Request): HandoverFormat | null {
  const format = new URL(request.url).searchParams.get('format') ?? 'pdf';
  return (HANDOVER_FORMATS as readonly string[]).includes(format)
    ? (format as HandoverFormat)
    : null;
}

function slug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .replace(/[\s_]+/g, '-')
      .toLowerCase()
      .slice(0, 60) || 'site'
  );
}

function render(
  records: HandoverRecord[],
  format: HandoverFormat,
  scope: 'case' | 'site',
  title: string,
): Uint8Array | string {
  switch (format) {
    case 'pdf':
      return renderHandoverPdf(records, title);
    case 'csv':
      return renderHandoverCsv(records);
    case 'json':
      return renderHandoverJson(records, scope);
  }
}

function fileResponse(body: Uint8Array | string, format: HandoverFormat, filename: string) {
  return new Response(typeof body === 'string' ? body : Buffer.from(body), {
    status: 200,
    headers: {
      'content-type': HANDOVER_MEDIA_TYPES[format],
      'content-disposition': contentDisposition('attachment', filename),
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    },
  });
}

/** GET /api/handover/cases/<id>?format=pdf|csv|json: one case's handover record. */
export async function handleCaseHandoverExport(
  request: Request,
  caseId: string,
  deps: RouteDependencies,
): Promise<Response> {
  const actor = await deps.actorOf(request);
  if (!actor) return errorResponse(401, 'Sign in first.');
  const format = formatOf(request);
  if (format === null) return errorResponse(400, 'The format is pdf, csv or json.');
  if (!IdSchema.safeParse(caseId).success) return errorResponse(404, 'No such case.');
  try {
    const record = await getHandover(deps.db, actor, caseId);
    const day = record.generatedAt.toISOString().slice(0, 10);
    const body = render([record], format, 'case', `Custody handover ${record.camera.serial}`);
    await auditHandoverExport(deps.db, actor, {
      siteId: record.site.id,
      caseIds: [record.case.id],
      format,
      scope: 'case',
    });
    return fileResponse(body, format, `handover-${record.camera.serial}-${day}.${format}`);
  } catch (error) {
    return responseForError(error, 'The export');
  }
}

/**
 * GET /api/handover/sites/<id>?format=pdf|csv|json[&status=verified,documented]: the handover
 * records of a site's cases, verified and documented ones by default.
 */
export async function handleSiteHandoverExport(
  request: Request,
  siteId: string,
  deps: RouteDependencies,
): Promise<Response> {
  const actor = await deps.actorOf(request);
  if (!actor) return errorResponse(401, 'Sign in first.');
  const format = formatOf(request);
  if (format === null) return errorResponse(400, 'The format is pdf, csv or json.');
  if (!IdSchema.safeParse(siteId).success) return errorResponse(404, 'No such site.');
  const statusParam = new URL(request.url).searchParams.get('status');
  const statuses = statusParam
    ? statusParam
        .split(',')
        .map((status) => status.trim())
        .filter(Boolean)
    : [...HANDOVER_EXPORT_STATUSES];
  try {
    const { site, records } = await listSiteHandovers(deps.db, actor, siteId, statuses);
    const siteName = site.name;
    const day = new Date().toISOString().slice(0, 10);
    const body = render(records, format, 'site', `Custody handovers, ${siteName}`);
    await auditHandoverExport(deps.db, actor, {
      siteId,
      caseIds: records.map((record) => record.case.id),
      format,
      scope: 'site',
    });
    return fileResponse(body, format, `handovers-${slug(siteName)}-${day}.${format}`);
  } catch (error) {
    return responseForError(error, 'The export');
  }
}
