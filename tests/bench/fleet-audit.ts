import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createDb, type DatabaseHandle } from '@custody/db';
import { loadActor, type Actor } from '../../apps/web/src/server/services/actor.ts';
import {
  listFindings,
  runFleetAudit,
} from '../../apps/web/src/server/services/fleet-audit/audit-query.ts';
import { updateAuditSettings } from '../../apps/web/src/server/services/fleet-audit/audit-settings.ts';
import { takeAuditSnapshot } from '../../apps/web/src/server/services/fleet-audit/audit-snapshots.ts';
import {
  createBenchDatabase,
  describeServer,
  startBenchPostgres,
  type BenchDatabase,
} from './bench-database.ts';
import { processCpuMicros, sampleMachineBusy } from './proc-cpu.ts';

/*
 * The fleet documentation audit over 100,000 cameras at 2,000 sites on PostgreSQL, through the
 * service functions the fleetAudit router calls: the summary for an integrator granted every
 * site, for one site, and for an owner; the drill-down's first page; a snapshot. The fleet has a
 * realistic mix of what the audit reads: owner records (some superseded), vaulted admin
 * credentials (active, retired, pending), resets with and without a later verification, probes,
 * duplicate sightings, VMS registrations, cameras not seen for up to 60 days.
 */

const TARGET_MS = 1000;
/** Names the service's pool in pg_stat_activity, so its backends' CPU time can be read. */
const SERVICE_APP = 'custody-bench-fleet-audit';
const OWNERS = 100;
const FIRMWARE = [
  '6.50.5.12',
  '7.40.2',
  '8.40.4',
  '9.80.3',
  '9.80.47',
  '10.12.240',
  '10.12.246',
  '11.0.89',
  '11.11.73',
  '11.11.124',
  '12.0.1',
  '12.2.44',
] as const;
const OUIS = ['ACCC8E', 'B8A44F', 'E82725'] as const;

export interface FleetAuditBenchOptions {
  sites: number;
  camerasPerSite: number;
  runs: number;
  warmup: number;
  explain: boolean;
  keep: boolean;
}

interface Seeded {
  integratorUserId: string;
  ownerUserId: string;
  siteId: string;
  seedMs: number;
}

/** Organisations, sites, cameras and everything the audit reads, in INSERT … SELECT statements. */
async function seed(url: string, options: FleetAuditBenchOptions): Promise<Seeded> {
  const started = performance.now();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const owners = await sql<{ id: string }[]>`
      insert into organisations (name, kind)
      select 'Owner ' || g, 'owner' from generate_series(1, ${OWNERS}) g returning id`;
    const [integrator] = await sql<{ id: string }[]>`
      insert into organisations (name, kind) values ('Wide Integrator', 'integrator') returning id`;
    const [integratorUser, ownerUser] = await sql<{ id: string }[]>`
      insert into users (email, name)
      values ('wide@bench.test', 'Wide Admin'), ('owner@bench.test', 'Owner Approver')
      returning id`;
    await sql`
      insert into memberships (user_id, org_id, role) values
        (${integratorUser!.id}, ${integrator!.id}, 'integrator-admin'),
        (${ownerUser!.id}, ${owners[0]!.id}, 'owner-approver')`;
    await sql`
      insert into sites (owner_org_id, name)
      select (${owners.map((owner) => owner.id)}::uuid[])[g % ${OWNERS} + 1],
        'Site ' || lpad(g::text, 5, '0')
      from generate_series(0, ${options.sites - 1}) g`;
    await sql`
      insert into site_grants (site_id, integrator_org_id, granted_by)
      select id, ${integrator!.id}, ${ownerUser!.id} from sites`;
    await sql`
      insert into agents (site_id, name, public_key, status, last_seen_at)
      select id, 'Agent at ' || name, 'bench-' || id, 'online', now() from sites`;
    // Last seen within two days, or for one camera in ten up to 60 days ago; 3 % lost; 5 % in
    // factory default.
    await sql`
      insert into cameras (serial, site_id, model, firmware, address, source, access_state,
        agent_id, first_seen_at, last_seen_at, lost_at)
      select
        (${OUIS}::text[])[i % 3 + 1] || lpad(upper(to_hex(i)), 6, '0'),
        site_id,
        'M3086-V',
        (${FIRMWARE}::text[])[(i * 13 + site_index) % ${FIRMWARE.length} + 1],
        '10.' || (site_index / 256) || '.' || (site_index % 256) || '.' || (10 + c),
        'scan',
        (case
          when i * 31 % 100 < 70 then 'authenticated'
          when i * 31 % 100 < 78 then 'login-failed'
          when i * 31 % 100 < 83 then 'needs-setup'
          when i * 31 % 100 < 86 then 'locked-out'
          when i * 31 % 100 < 93 then 'unreachable'
        end)::access_state,
        agent_id,
        seen - interval '90 days',
        seen,
        case when i % 33 = 0 then seen end
      from (
        select s.id as site_id, a.id as agent_id,
          (row_number() over (order by s.name) - 1)::int as site_index
        from sites s join agents a on a.site_id = s.id
      ) as site
      cross join generate_series(0, ${options.camerasPerSite - 1}) as c
      cross join lateral (select site_index * ${options.camerasPerSite} + c as i) as camera
      cross join lateral (
        select now() - (i * 7919 % (case when i % 10 = 0 then 86400 else 2880 end))
          * interval '1 minute' as seen
      ) as seen`;
    await sql`
      create temporary table bench_cameras as
      select c.serial, c.site_id, c.agent_id, s.owner_org_id,
        (row_number() over (order by c.serial))::int as n
      from cameras c join sites s on s.id = c.site_id`;
    // 70 % with a current owner record, 5 % with only a superseded one.
    await sql`
      insert into ownership_records (serial, owner_org_id, attested_by, superseded_at)
      select serial, owner_org_id, ${ownerUser!.id},
        case when n % 20 = 7 then now() - interval '3 days' end
      from bench_cameras where n % 10 < 7 or n % 20 = 7`;
    // 60 % with an active admin version (and a retired one before it), 10 % with a pending one
    // only, 20 % with a VMS account.
    await sql`
      insert into credentials (serial, account, username, version, status, ciphertext,
        wrapped_key, key_id)
      select serial, 'admin'::credential_account, 'root', v, status::credential_status,
        '\\x00'::bytea, '\\x00'::bytea, 'bench'
      from bench_cameras
      cross join lateral (values (1, 'retired'), (2, 'active')) as versions(v, status)
      where n % 10 < 6
      union all
      select serial, 'admin', 'root', 1, 'pending', '\\x00', '\\x00', 'bench'
      from bench_cameras where n % 10 = 6
      union all
      select serial, 'vms', 'acs', 1, 'active', '\\x00', '\\x00', 'bench'
      from bench_cameras where n % 5 = 0`;
    // 14 % reset; two thirds of those verified after the reset, the rest before it.
    await sql`
      create temporary table bench_resets as
      select serial, site_id, agent_id, n, now() - (n % 5000) * interval '1 minute' as reset_at
      from bench_cameras where n % 10 = 8 or n % 25 = 0`;
    await sql`
      insert into cases (serial, site_id, status, state, opened_by)
      select serial, site_id, 'documented', '{}', ${integratorUser!.id} from bench_resets`;
    await sql`
      insert into commands (agent_id, serial, verb, status, queued_at, completed_at)
      select agent_id, serial,
        (array['factory-default-soft', 'factory-default-hard', 'watch-for-device'])[n % 3 + 1],
        'succeeded', reset_at - interval '5 minutes', reset_at
      from bench_resets`;
    await sql`
      insert into verifications (case_id, serial, passed, checks, created_at)
      select k.id, r.serial, true, '[]',
        case when r.n % 3 = 0 then r.reset_at - interval '1 day' else r.reset_at + interval '20 minutes' end
      from bench_resets r join cases k on k.serial = r.serial`;
    // Every other camera has a finished probe, a command the audit must not take for a reset.
    await sql`
      insert into commands (agent_id, serial, verb, status, queued_at, completed_at)
      select agent_id, serial, 'probe', 'succeeded', now() - interval '1 hour',
        now() - interval '59 minutes'
      from bench_cameras where n % 2 = 0`;
    // 0.5 % sighted by the agent of another site.
    await sql`
      insert into camera_site_conflicts (serial, agent_id, site_id, url, address)
      select c.serial, a.id, a.site_id, 'http://10.99.0.1/', '10.99.0.1'
      from bench_cameras c
      join lateral (select id, site_id from agents where site_id <> c.site_id limit 1) a on true
      where c.n % 200 = 0`;
    // 65 % in the VMS.
    await sql`
      insert into vms_registrations (serial, platform, source)
      select serial, 'AXIS Camera Station', 'import' from bench_cameras
      where n % 10 < 6 or n % 7 = 0`;
    const [site] = await sql<{ id: string }[]>`select id from sites order by name limit 1`;
    await sql`vacuum analyze`;
    return {
      integratorUserId: integratorUser!.id,
      ownerUserId: ownerUser!.id,
      siteId: site!.id,
      seedMs: performance.now() - started,
    };
  } finally {
    await sql.end();
  }
}

interface Measured {
  name: string;
  detail: string;
  p50: number;
  p95: number;
  max: number;
  runs: number;
  /** CPU time of the service's PostgreSQL backends per run, ms (parallel workers not included). */
  serverCpuMs: number;
}

interface Case {
  name: string;
  run(): Promise<string>;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** CPU time so far of each backend serving the service's pool, by pid. */
async function backendCpu(monitor: postgres.Sql, database: string): Promise<Map<number, number>> {
  const rows = await monitor<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = ${database} and application_name = ${SERVICE_APP}`;
  return new Map(rows.map((row) => [row.pid, processCpuMicros(row.pid)]));
}

async function measure(
  query: Case,
  options: FleetAuditBenchOptions,
  monitor: postgres.Sql,
  database: string,
): Promise<Measured> {
  let detail = '';
  for (let index = 0; index < options.warmup; index += 1) detail = await query.run();
  const times: number[] = [];
  const before = await backendCpu(monitor, database);
  for (let index = 0; index < options.runs; index += 1) {
    const started = performance.now();
    detail = await query.run();
    times.push(performance.now() - started);
  }
  let cpuMicros = 0;
  for (const [pid, cpu] of await backendCpu(monitor, database))
    cpuMicros += cpu - (before.get(pid) ?? 0);
  times.sort((a, b) => a - b);
  return {
    name: query.name,
    detail,
    p50: percentile(times, 0.5),
    p95: percentile(times, 0.95),
    max: times.at(-1) ?? Number.NaN,
    runs: times.length,
    serverCpuMs: cpuMicros / 1000 / times.length,
  };
}

interface PostgresDebug {
  options: { debug: ((...args: unknown[]) => void) | boolean };
}

/** Runs the case once and prints EXPLAIN ANALYZE of every statement it sent. */
async function explain(handle: DatabaseHandle, url: string, query: Case): Promise<string> {
  const client = (handle.db as unknown as { $client: PostgresDebug }).$client;
  const statements: { text: string; parameters: unknown[] }[] = [];
  client.options.debug = (_connection, text, parameters) => {
    statements.push({ text: String(text), parameters: parameters as unknown[] });
  };
  try {
    await query.run();
  } finally {
    client.options.debug = false;
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const plans: string[] = [`--- ${query.name}`];
    // In one transaction, so the service's SET LOCAL tuning applies to what is explained.
    await sql.begin(async (tx) => {
      for (const statement of statements) {
        if (/^\s*set\s/i.test(statement.text)) {
          await tx.unsafe(statement.text);
          plans.push(statement.text, '');
        }
        // Transaction control and the audit log's writes are not what is measured here.
        if (!/^\s*(select|with)\b/i.test(statement.text)) continue;
        const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(
          `explain (analyze, buffers) ${statement.text}`,
          statement.parameters as postgres.ParameterOrJSON<never>[],
        );
        plans.push(statement.text, ...rows.map((row) => row['QUERY PLAN']), '');
      }
    });
    return plans.join('\n');
  } finally {
    await sql.end();
  }
}

function cases(handle: DatabaseHandle, integrator: Actor, owner: Actor, siteId: string): Case[] {
  const { db } = handle;
  const summary =
    (actor: Actor, input: { siteId?: string } = {}) =>
    async () => {
      const result = await runFleetAudit(db, actor, input);
      return `${result.fleet.cameras.toLocaleString('en')} cameras, ${result.fleet.sites.toLocaleString('en')} sites, ${result.fleet.withFindings.toLocaleString('en')} with findings`;
    };
  return [
    { name: 'summary, fleet-wide (integrator)', run: summary(integrator) },
    { name: 'summary, one site', run: summary(integrator, { siteId }) },
    { name: 'summary, owner (its 20 sites)', run: summary(owner) },
    {
      name: 'drill-down, first 50 with any finding',
      run: async () => `${(await listFindings(db, integrator, { limit: 50 })).items.length} rows`,
    },
    {
      name: 'drill-down, 50 unverified after reset',
      run: async () =>
        `${(await listFindings(db, integrator, { finding: 'unverified-after-reset', limit: 50 })).items.length} rows`,
    },
    {
      name: 'snapshot, fleet-wide (integrator)',
      run: async () => {
        const org = integrator.memberships[0]!;
        const snapshot = await takeAuditSnapshot(
          db,
          { id: org.orgId, name: org.orgName, kind: org.orgKind },
          { trigger: 'manual', actor: null },
        );
        return `${snapshot?.cameraCount.toLocaleString('en') ?? 'no'} cameras`;
      },
    },
  ];
}

export interface FleetAuditFigures {
  server: string;
  machineBusyBefore: number;
  cameras: number;
  seedMs: number;
  rows: Measured[];
  findings: Record<string, number>;
  plans: string[];
}

export async function runFleetAuditBench(
  options: FleetAuditBenchOptions,
): Promise<FleetAuditFigures> {
  const machineBusyBefore = await sampleMachineBusy();
  const pg = await startBenchPostgres();
  let database: BenchDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let monitor: postgres.Sql | undefined;
  try {
    const server = `${await describeServer(pg.url)} (${pg.origin})`;
    database = await createBenchDatabase(pg.url, 'bench_fleet_audit');
    const seeded = await seed(database.url, options);
    const serviceUrl = new URL(database.url);
    serviceUrl.searchParams.set('application_name', SERVICE_APP);
    handle = await createDb({ url: serviceUrl.toString() });
    monitor = postgres(database.url, { max: 1, onnotice: () => {} });
    const integrator = await loadActor(handle.db, seeded.integratorUserId, null);
    const owner = await loadActor(handle.db, seeded.ownerUserId, null);
    if (integrator === null || owner === null) throw new Error('The seeded users did not load.');
    await updateAuditSettings(handle.db, integrator, {
      firmwareFloor: '10.12',
      staleAfterDays: 14,
      snapshotIntervalHours: 24,
    });
    const rows: Measured[] = [];
    const plans: string[] = [];
    for (const query of cases(handle, integrator, owner, seeded.siteId)) {
      rows.push(await measure(query, options, monitor, database.name));
      if (options.explain) plans.push(await explain(handle, database.url, query));
    }
    const fleet = await runFleetAudit(handle.db, integrator);
    return {
      server,
      machineBusyBefore,
      cameras: options.sites * options.camerasPerSite,
      seedMs: seeded.seedMs,
      rows,
      findings: fleet.fleet.findings,
      plans,
    };
  } finally {
    await monitor?.end();
    await handle?.close();
    if (options.keep && database !== undefined) {
      console.log(`kept the database: ${database.url}`);
    } else {
      await database?.drop();
      await pg.stop();
    }
  }
}

export function formatFigures(figures: FleetAuditFigures, options: FleetAuditBenchOptions): string {
  const ms = (value: number) => value.toFixed(1).padStart(8);
  const lines = [
    `fleet audit: ${figures.cameras.toLocaleString('en')} cameras at ${options.sites.toLocaleString('en')} sites, seeded in ${(figures.seedMs / 1000).toFixed(1)} s; each case run ${options.runs} times after ${options.warmup} warm-up`,
    `  database  ${figures.server}`,
    `  machine   ${availableParallelism()} cores, ${(figures.machineBusyBefore * 100).toFixed(0)}% busy with other work just before the run; server CPU is what a case cost PostgreSQL (its leader backend), the latency an idle machine would approach`,
    `  findings  ${Object.entries(figures.findings)
      .map(([finding, count]) => `${finding} ${count.toLocaleString('en')}`)
      .join(', ')}`,
    `    ${'case'.padEnd(40)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)} ${'srv CPU'.padStart(8)}  (ms)  result`,
  ];
  for (const row of figures.rows) {
    const flag = row.p95 > TARGET_MS ? `  over the ${TARGET_MS} ms target` : '';
    lines.push(
      `    ${row.name.padEnd(40)} ${ms(row.p50)} ${ms(row.p95)} ${ms(row.max)} ${ms(row.serverCpuMs)}        ${row.detail}${flag}`,
    );
  }
  const fleetWide = figures.rows[0];
  if (fleetWide !== undefined) {
    lines.push(
      `  fleet-wide summary p95 ${fleetWide.p95.toFixed(1)} ms; target <= ${TARGET_MS} ms, ratio ${(fleetWide.p95 / TARGET_MS).toFixed(2)}`,
    );
  }
  return [...lines, ...figures.plans].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '2000' },
      'cameras-per-site': { type: 'string', default: '50' },
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      explain: { type: 'boolean', default: false },
      'keep-database': { type: 'boolean', default: false },
    },
  });
  const options: FleetAuditBenchOptions = {
    sites: Number(values.sites),
    camerasPerSite: Number(values['cameras-per-site']),
    runs: Number(values.runs),
    warmup: Number(values.warmup),
    explain: values.explain,
    keep: values['keep-database'],
  };
  console.log(formatFigures(await runFleetAuditBench(options), options));
}
