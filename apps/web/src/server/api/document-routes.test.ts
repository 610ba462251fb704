import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documents } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { insertReportedCamera } from '../services/approvals/approval-test-fixtures.ts';
import { listAuditEvents } from '../services/audit-log.ts';
import { MAX_DOCUMENT_BYTES } from '../services/ownership/evidence-document.ts';
import { useWorld, type CallerName } from '../test-support/world.ts';
import { handleDocumentDownload, handleDocumentUpload } from './document-routes.ts';
import type { RouteDependencies } from './route-support.ts';

const ORIGIN = 'http://custody.test:3000';
const PDF = new TextEncoder().encode('%PDF-1.7\n% invoice 2020-118\n%%EOF\n');
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

describe('document upload and download', () => {
  const t = useWorld({ beforeAll, afterAll });
  let serial = '';
  beforeAll(async () => {
    serial = (await insertReportedCamera(t.db, t.world.sites.grantedSite.id)).serial;
  });

  function deps(caller: CallerName | 'anonymous'): RouteDependencies {
    return {
      db: t.db,
      origins: [ORIGIN],
      actorOf: () => Promise.resolve(caller === 'anonymous' ? null : t.world.actors[caller]),
    };
  }

  function upload(
    body: BodyInit | null,
    headers: Record<string, string> = {},
    target = serial,
  ): Request {
    return new Request(`${ORIGIN}/api/documents?serial=${target}`, {
      method: 'POST',
      headers: {
        origin: ORIGIN,
        'x-custody-upload': '1',
        'content-type': 'application/pdf',
        'x-custody-filename': encodeURIComponent('Rechnung №118.pdf'),
        ...headers,
      },
      body,
      // @ts-expect-error -- undici needs duplex for a streamed request body
      duplex: 'half',
    });
  }

  async function uploaded(response: Response): Promise<{ id: string; sha256: string }> {
    expect(response.status).toBe(201);
    return ((await response.json()) as { document: { id: string; sha256: string } }).document;
  }

  it('stores a PDF from an owner approver with its hash, and audits the upload', async () => {
    const document = await uploaded(await handleDocumentUpload(upload(PDF), deps('ownerApprover')));
    expect(document.sha256).toBe(createHash('sha256').update(PDF).digest('hex'));
    const [row] = await t.db.select().from(documents).where(eq(documents.id, document.id));
    expect(row).toMatchObject({
      orgId: t.world.orgs.owner.id,
      filename: 'Rechnung №118.pdf',
      mediaType: 'application/pdf',
      sizeBytes: PDF.byteLength,
    });
    expect(Buffer.from(row?.content ?? []).equals(Buffer.from(PDF))).toBe(true);
    const [event] = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'document', id: document.id },
    });
    expect(event?.content).toMatchObject({
      action: 'document.uploaded',
      data: { serial, sha256: document.sha256, sizeBytes: PDF.byteLength },
    });
  });

  it('refuses cross-site uploads and uploads without the Custody header', async () => {
    const foreign = upload(PDF, { origin: 'http://evil.test' });
    const noHeader = upload(PDF, { 'x-custody-upload': '' });
    const get = new Request(`${ORIGIN}/api/documents?serial=${serial}`);
    expect((await handleDocumentUpload(foreign, deps('ownerApprover'))).status).toBe(403);
    expect((await handleDocumentUpload(noHeader, deps('ownerApprover'))).status).toBe(403);
    expect((await handleDocumentUpload(get, deps('ownerApprover'))).status).toBe(405);
  });

  const expected: Record<CallerName | 'anonymous', number> = {
    integratorAdmin: 403,
    technician: 403,
    integratorAuditor: 403,
    ownerApprover: 201,
    ownerAuditor: 403,
    foreignIntegratorAdmin: 404,
    foreignOwnerApprover: 404,
    anonymous: 401,
  };
  for (const [caller, status] of Object.entries(expected)) {
    it(`answers ${caller} with ${status} when uploading for a home camera`, async () => {
      const response = await handleDocumentUpload(upload(PDF), deps(caller as CallerName));
      expect(response.status).toBe(status);
    });
  }

  it('refuses a body over the limit by its Content-Length without reading it', async () => {
    const response = await handleDocumentUpload(
      upload(PDF, { 'content-length': String(MAX_DOCUMENT_BYTES + 1) }),
      deps('ownerApprover'),
    );
    expect(response.status).toBe(413);
  });

  it('refuses a streamed body once it passes the limit, whatever it claimed', async () => {
    let sent = 0;
    const chunk = new Uint8Array(1024 * 1024);
    chunk.set(PDF);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await handleDocumentUpload(upload(stream), deps('ownerApprover'));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { reason: string } }).error.reason).toBe(
      'too-large',
    );
    expect(sent).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES + 2 * chunk.byteLength);
  });

  it('refuses content that is not what it was declared as, and unsupported types', async () => {
    const renamed = await handleDocumentUpload(upload(PNG), deps('ownerApprover'));
    expect(renamed.status).toBe(415);
    expect(((await renamed.json()) as { error: { reason: string } }).error.reason).toBe(
      'type-mismatch',
    );
    const html = await handleDocumentUpload(
      upload(new TextEncoder().encode('<script>alert(1)</script>'), {
        'content-type': 'text/html',
      }),
      deps('ownerApprover'),
    );
    expect(html.status).toBe(415);
    const empty = await handleDocumentUpload(upload(new Uint8Array(0)), deps('ownerApprover'));
    expect(empty.status).toBe(400);
  });

  it('refuses a malformed serial', async () => {
    const response = await handleDocumentUpload(upload(PDF, {}, 'nope'), deps('ownerApprover'));
    expect(response.status).toBe(400);
  });

  it('serves an attached document to those who see the camera, as an attachment', async () => {
    const document = await uploaded(await handleDocumentUpload(upload(PDF), deps('ownerApprover')));
    const get = () => new Request(`${ORIGIN}/api/documents/${document.id}`);
    // Before it is attached, only the owner organisation's members can read it.
    expect((await handleDocumentDownload(get(), document.id, deps('technician'))).status).toBe(404);
    expect((await handleDocumentDownload(get(), document.id, deps('ownerAuditor'))).status).toBe(
      200,
    );
    await t.as('ownerApprover').ownership.record({
      serial,
      circumstance: 'original-purchase',
      evidence: [{ kind: 'invoice', reference: 'INV-118', documentId: document.id }],
    });
    const response = await handleDocumentDownload(get(), document.id, deps('technician'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="Rechnung _118.pdf"; filename*=UTF-8''${encodeURIComponent('Rechnung №118.pdf')}`,
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PDF);
    for (const caller of ['foreignIntegratorAdmin', 'foreignOwnerApprover'] as const) {
      expect((await handleDocumentDownload(get(), document.id, deps(caller))).status).toBe(404);
    }
    expect((await handleDocumentDownload(get(), document.id, deps('anonymous'))).status).toBe(401);
    expect((await handleDocumentDownload(get(), 'not-an-id', deps('technician'))).status).toBe(404);
  });
});
