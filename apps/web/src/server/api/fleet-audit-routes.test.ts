import { auditEvents, cameras, sites } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAuditedFleet } from '../services/fleet-audit/audit-test-fixtures.ts';
import { useWorld, type CallerName } from '../test-support/world.ts';
import { handleFleetAuditExport } from './fleet-audit-routes.ts';
import type { RouteDependencies } from './route-support.ts';

const ORIGIN = 'http://custody.test:3000';

/** Splits an RFC 4180 document whose cells are all quoted. */
function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\r\n')
    .map((line) =>
      [...line.matchAll(/"((?:[^"]|"")*)"|([^,]+)/g)].map((m) =>
        (m[1] ?? m[2] ?? '').replace(/""/g, '"'),
      ),
    );
}

describe('fleet audit exports', () => {
  const t = useWorld({ beforeAll, afterAll });
  beforeAll(async () => {
    await seedAuditedFleet(t.db, t.world);
    // Text from devices and users reaches spreadsheets: a formula must stay text.
    await t.db
      .update(cameras)
      .set({ model: '=HYPERLINK("http://evil")' })
      .where(eq(cameras.serial, 'ACCC8E000004'));
    await t.db
      .update(sites)
      .set({ name: '+Depot' })
      .where(eq(sites.id, t.world.sites.ungrantedSite.id));
  });

  function deps(caller: CallerName | 'anonymous'): RouteDependencies {
    return {
      db: t.db,
      origins: [ORIGIN],
      actorOf: () => Promise.resolve(caller === 'anonymous' ? null : t.world.actors[caller]),
    };
  }
  const get = (query: string, caller: CallerName | 'anonymous' = 'ownerAuditor') =>
    handleFleetAuditExport(new Request(`${ORIGIN}/api/fleet-audit/export?${query}`), deps(caller));

  it('exports the fleet-wide findings as JSON for an auditor, counts and cameras agreeing', async () => {
    const response = await get('format=json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const day = new Date().toISOString().slice(0, 10);
    expect(response.headers.get('content-disposition')).toContain(
      `attachment; filename="fleet-audit-fleet-${day}.json"`,
    );
    const body = (await response.json()) as {
      organisation: { id: string };
      fleet: { cameras: number; withFindings: number; findings: Record<string, number> };
      sites: { siteName: string }[];
      cameras: { serial: string; findings: string[] }[];
      catalog: { code: string; remediation: string }[];
    };
    expect(body.organisation.id).toBe(t.world.orgs.owner.id);
    expect(body.fleet).toMatchObject({ cameras: 4, withFindings: 3 });
    expect(body.cameras.map((camera) => camera.serial)).toEqual([
      'ACCC8E000002',
      'ACCC8E000004',
      'B8A44F000003',
    ]);
    expect(body.cameras.flatMap((camera) => camera.findings).length).toBe(
      Object.values(body.fleet.findings).reduce((sum, count) => sum + count, 0),
    );
    expect(body.catalog).toHaveLength(8);
  });

  it('exports cameras as CSV with a column per finding, formulas neutralised', async () => {
    const response = await get('format=csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await response.text();
    const [header, ...rows] = parseCsv(text);
    expect(header?.slice(0, 8)).toEqual([
      'site',
      'site_id',
      'serial',
      'model',
      'firmware',
      'access_state',
      'last_seen_at',
      'findings',
    ]);
    expect(header).toContain('factory-default');
    const depot = rows.find((row) => row[2] === 'ACCC8E000004');
    expect(depot?.[0]).toBe("'+Depot");
    expect(depot?.[3]).toBe('\'=HYPERLINK("http://evil")');
    expect(depot?.[7]).toBe(
      'No owner record; No documented credential; Not in the VMS; Factory default',
    );
    expect(depot?.[header!.indexOf('factory-default')]).toBe('yes');
    expect(depot?.[header!.indexOf('not-seen')]).toBe('');
    expect(rows).toHaveLength(3);
  });

  it('exports per-site counts and the fleet-wide total as CSV', async () => {
    const text = await (await get('format=csv&view=sites')).text();
    const rows = parseCsv(text);
    expect(rows.map((row) => [row[0], row[2], row[3]])).toEqual([
      ['site', 'cameras', 'with_findings'],
      ["'+Depot", '1', '1'],
      ['Harbour Street', '3', '2'],
      ['Fleet-wide', '4', '3'],
    ]);
  });

  it('narrows to one site and one finding, and records the export in the audit log', async () => {
    const response = await get(
      `format=csv&site=${t.world.sites.grantedSite.id}&finding=duplicate-serial`,
      'integratorAuditor',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain(
      'fleet-audit-site-harbour-street-cameras-',
    );
    const rows = parseCsv(await response.text()).slice(1);
    expect(rows.map((row) => row[2])).toEqual(['ACCC8E000002']);
    const events = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.actorId, t.world.people.integratorAuditor.id));
    expect(events.map((event) => [event.action, event.siteId])).toEqual([
      ['fleet-audit.exported', t.world.sites.grantedSite.id],
    ]);
    expect((events[0]?.payload as { data: unknown }).data).toEqual({
      format: 'csv',
      view: 'cameras',
      finding: 'duplicate-serial',
      cameras: 1,
    });
  });

  it('refuses the anonymous, bad parameters, and a site of another tenant', async () => {
    expect((await get('format=csv', 'anonymous')).status).toBe(401);
    for (const query of ['format=pdf', 'view=everything', 'finding=bogus', 'site=12', 'org=x']) {
      const response = await get(query);
      expect(response.status).toBe(400);
    }
    const foreign = await get(`format=json&site=${t.world.sites.foreignSite.id}`);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({
      error: { message: 'No such site.', code: 'not-found' },
    });
    const forbiddenOrg = await get(`format=json&org=${t.world.orgs.integrator.id}`);
    expect(forbiddenOrg.status).toBe(404);
  });
});
