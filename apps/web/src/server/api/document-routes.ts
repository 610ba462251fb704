import { IdSchema, parseSerial } from '@custody/core';
import { MAX_DOCUMENT_BYTES, readBodyWithLimit } from '../services/ownership/evidence-document.ts';
import { readDocument, storeEvidenceDocument } from '../services/ownership/evidence-documents.ts';
import {
  contentDisposition,
  errorResponse,
  refuseCrossSiteUpload,
  responseForError,
  type RouteDependencies,
} from './route-support.ts';

export const DOCUMENTS_ENDPOINT = '/api/documents';

function decodeFilename(header: string | null): string {
  if (header === null) return 'document';
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

/**
 * POST /api/documents?serial=… with the file itself as the body (Content-Type: its media type,
 * X-Custody-Filename: its name, percent-encoded). Not multipart: the body is the file, so it is
 * streamed against the size cap with no parser in between, and the non-form content type plus
 * the custom header keep cross-site pages out.
 */
export async function handleDocumentUpload(
  request: Request,
  deps: RouteDependencies,
): Promise<Response> {
  const refusal = refuseCrossSiteUpload(request, deps.origins);
  if (refusal) return errorResponse(refusal.status, refusal.message);
  const actor = await deps.actorOf(request);
  if (!actor) return errorResponse(401, 'Sign in first.');
  const serial = parseSerial(new URL(request.url).searchParams.get('serial') ?? '');
  if (!serial.ok) return errorResponse(400, serial.error.message, { field: 'serial' });
  const declaredLength = Number(request.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declaredLength) && declaredLength > MAX_DOCUMENT_BYTES) {
    await request.body?.cancel().catch(() => undefined);
    return errorResponse(
      413,
      `The document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB.`,
      { field: 'document', reason: 'too-large' },
    );
  }
  try {
    const content = await readBodyWithLimit(request.body, MAX_DOCUMENT_BYTES);
    const document = await storeEvidenceDocument(deps.db, actor, {
      serial: serial.value,
      filename: decodeFilename(request.headers.get('x-custody-filename')),
      declaredType: request.headers.get('content-type') ?? '',
      content,
    });
    return Response.json({ document }, { status: 201, headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return responseForError(error, 'The upload');
  }
}

/**
 * GET /api/documents/<id>: the stored file, for those who may see it. Always an attachment with
 * its sniffed type, nosniff and a sandboxing CSP, so an uploaded file never runs as a page here.
 */
export async function handleDocumentDownload(
  request: Request,
  documentId: string,
  deps: RouteDependencies,
): Promise<Response> {
  const actor = await deps.actorOf(request);
  if (!actor) return errorResponse(401, 'Sign in first.');
  if (!IdSchema.safeParse(documentId).success) return errorResponse(404, 'No such document.');
  try {
    const document = await readDocument(deps.db, actor, documentId);
    return new Response(Buffer.from(document.content), {
      status: 200,
      headers: {
        'content-type': document.mediaType,
        'content-length': String(document.sizeBytes),
        'content-disposition': contentDisposition('attachment', document.filename),
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'private, no-store',
        etag: `"${document.sha256}"`,
      },
    });
  } catch (error) {
    return responseForError(error, 'The download');
  }
}
