import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../services/audit-log.ts';
import { checkPdfStructure, shownText, textOf } from '../services/handover/pdf-test-support.ts';
import { VAULTED_PASSWORDS, verifiedCase } from '../services/handover/handover-test-fixtures.ts';
import { useWorld, type CallerName } from '../test-support/world.ts';
import { handleCaseHandoverExport, handleSiteHandoverExport } from './handover-routes.ts';
import type { RouteDependencies } from './route-support.ts';

const ORIGIN = 'http://custody.test:3000';

describe('handover exports', () => {
  const t = useWorld({ beforeAll, afterAll });
  let fixture: Awaited<ReturnType<typeof verifiedCase>>;
  beforeAll(async () => {
    fixture = await verifiedCase(t.db, t.world);
    await t.as('technician').handover.confirm({ caseId: fixture.caseId });
  });

  function deps(caller: CallerName | 'anonymous'): RouteDependencies {
    return {
      db: t.db,
      origins: [ORIGIN],
      actorOf: () => Promise.resolve(caller === 'anonymous' ? null : t.world.actors[caller]),
    };
  }

  const caseExport = (format: string, caller: CallerName | 'anonymous' = 'technician') =>
    handleCaseHandoverExport(
      new Request(`${ORIGIN}/api/handover/cases/${fixture.caseId}?format=${format}`),
      fixture.caseId,
      deps(caller),
    );

  function expectNoSecret(text: string) {
    for (const password of Object.values(VAULTED_PASSWORDS)) {
      expect(text).not.toContain(password);
    }
  }

  it('exports one case as JSON with credential references and never a password', async () => {
    const response = await caseExport('json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const day = new Date().toISOString().slice(0, 10);
    expect(response.headers.get('content-disposition')).toContain(
      `attachment; filename="handover-${fixture.serial}-${day}.json"`,
    );
    const text = await response.text();
    expectNoSecret(text);
    const body = JSON.parse(text) as {
      camera: { serial: string };
      credentials: { credentialId: string; version: number; username: string }[];
      case: { status: string };
      timeline: { action: string }[];
    };
    expect(body.camera.serial).toBe(fixture.serial);
    expect(body.case.status).toBe('documented');
    expect(body.credentials.map((c) => c.credentialId)).toEqual([
      fixture.credentialIds.admin,
      fixture.credentialIds.service,
      fixture.credentialIds.vms,
    ]);
    expect(Object.keys(body.credentials[0] ?? {}).sort()).toEqual([
      'account',
      'createdAt',
      'credentialId',
      'status',
      'username',
      'version',
    ]);
    expect(body.timeline.map((entry) => entry.action)).toContain('case.documented');
  });

  it('exports one case as CSV, a header and one row, with no password', async () => {
    const response = await caseExport('csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await response.text();
    expectNoSecret(text);
    expect(text.startsWith('case_id,case_status,case_path,serial,')).toBe(true);
    expect(text).toContain(`"${fixture.serial}"`);
    expect(text).toContain(`credential ${fixture.credentialIds.admin}`);
    expect(text).toContain('"AXIS Camera Station"');
  });

  it('exports one case as a well-formed PDF that states the handover and holds no password', async () => {
    const response = await caseExport('pdf');
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const bytes = new Uint8Array(await response.arrayBuffer());
    checkPdfStructure(bytes);
    expectNoSecret(textOf(bytes));
    const shown = shownText(bytes);
    expectNoSecret(shown);
    for (const fact of [
      fixture.serial,
      'AXIS P3265-LVE',
      'Harbour Bakery',
      'Harbour Street',
      fixture.credentialIds.admin,
      'AXIS Camera Station',
      'Inherited from another installer',
      'case.documented',
    ]) {
      expect(shown).toContain(fact);
    }
  });

  it('audits each export', async () => {
    await caseExport('json');
    const [event] = await listAuditEvents(t.db, {
      scope: 'all',
      subject: { kind: 'case', id: fixture.caseId },
      action: 'handover.exported',
    });
    expect(event?.content.data).toMatchObject({ format: 'json', cases: 1 });
  });

  it('refuses an unknown format, and answers anonymous and foreign callers as it should', async () => {
    expect((await caseExport('docx')).status).toBe(400);
    expect((await caseExport('json', 'anonymous')).status).toBe(401);
    expect((await caseExport('json', 'foreignIntegratorAdmin')).status).toBe(404);
    expect((await caseExport('json', 'foreignOwnerApprover')).status).toBe(404);
    expect((await caseExport('json', 'ownerAuditor')).status).toBe(200);
  });

  it('exports a site in bulk: its verified and documented cases only, never a password', async () => {
    const second = await verifiedCase(t.db, t.world);
    const elsewhere = await verifiedCase(t.db, t.world, t.world.sites.ungrantedSite.id);
    const siteId = t.world.sites.grantedSite.id;
    const siteExport = (format: string, caller: CallerName = 'integratorAuditor') =>
      handleSiteHandoverExport(
        new Request(`${ORIGIN}/api/handover/sites/${siteId}?format=${format}`),
        siteId,
        deps(caller),
      );
    const json = await siteExport('json');
    expect(json.headers.get('content-disposition')).toContain(
      'filename="handovers-harbour-street-',
    );
    const text = await json.text();
    expectNoSecret(text);
    const serials = (
      JSON.parse(text) as { handovers: { camera: { serial: string } }[] }
    ).handovers.map((handover) => handover.camera.serial);
    expect(serials).toContain(fixture.serial);
    expect(serials).toContain(second.serial);
    expect(serials).not.toContain(elsewhere.serial);

    const csv = await (await siteExport('csv')).text();
    expectNoSecret(csv);
    expect(csv.split('\r\n').filter((line) => line.startsWith('"')).length).toBeGreaterThanOrEqual(
      2,
    );

    const pdf = new Uint8Array(await (await siteExport('pdf')).arrayBuffer());
    checkPdfStructure(pdf);
    expectNoSecret(textOf(pdf));
    expect(shownText(pdf)).toContain(second.serial);

    const foreign = await siteExport('json', 'foreignIntegratorAdmin');
    expect(foreign.status).toBe(404);
  });
});
