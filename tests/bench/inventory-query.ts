import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createDb, type DatabaseHandle } from '@custody/db';
import { loadActor, type Actor } from '../../apps/web/src/server/services/actor.ts';
import {
  FleetQuerySchema,
  type FleetQueryInput,
} from '../../apps/web/src/server/services/fleet-query.ts';
import { fleetFacets, listFleet } from '../../apps/web/src/server/services/fleet.ts';
import {
  createBenchDatabase,
  describeServer,
  startBenchPostgres,
  type BenchDatabase,
} from './bench-database.ts';
import { processCpuMicros, sampleMachineBusy } from './proc-cpu.ts';

/*
 * The fleet inventory's list and search over 100,000 cameras at 2,000 sites on PostgreSQL,
 * through the service functions the tRPC fleet router calls (listFleet, fleetFacets), for an
 * integrator granted every site and one granted 20. Each query runs `runs` times one after the
 * other; the figures are its latency percentiles against a target of p95 under 100 ms.
 */

const TARGET_P95_MS = 100;
const MIN_RUNS = 20;
/** Names the service's pool in pg_stat_activity, so its backends' CPU time can be read. */
const SERVICE_APP = 'custody-bench-fleet';
const OWNERS = 100;
const MODELS = [
  ['M3086-V', 'AXIS M3086-V Dome Camera'],
  ['M3088-V', 'AXIS M3088-V Dome Camera'],
  ['M3106-LVE Mk II', 'AXIS M3106-LVE Mk II Network Camera'],
  ['M2036-LE', 'AXIS M2036-LE Bullet Camera'],
  ['M4308-PLE', 'AXIS M4308-PLE Panoramic Camera'],
  ['P1465-LE', 'AXIS P1465-LE Bullet Camera'],
  ['P1455-LE', 'AXIS P1455-LE Network Camera'],
  ['P3245-LVE', 'AXIS P3245-LVE Dome Camera'],
  ['P3265-LVE', 'AXIS P3265-LVE Dome Camera'],
  ['P3268-LV', 'AXIS P3268-LV Dome Camera'],
  ['P3719-PLE', 'AXIS P3719-PLE Multisensor Camera'],
  ['P3818-PVE', 'AXIS P3818-PVE Panoramic Camera'],
  ['Q1615 Mk III', 'AXIS Q1615 Mk III Network Camera'],
  ['Q1656-LE', 'AXIS Q1656-LE Box Camera'],
  ['Q1786-LE', 'AXIS Q1786-LE Bullet Camera'],
  ['Q1798-LE', 'AXIS Q1798-LE Bullet Camera'],
  ['Q3538-LVE', 'AXIS Q3538-LVE Dome Camera'],
  ['Q3819-PVE', 'AXIS Q3819-PVE Panoramic Camera'],
  ['Q6075-E', 'AXIS Q6075-E PTZ Camera'],
  ['Q6135-LE', 'AXIS Q6135-LE PTZ Camera'],
  ['Q6225-LE', 'AXIS Q6225-LE PTZ Camera'],
  ['Q8752-E', 'AXIS Q8752-E Bispectral PTZ Camera'],
  ['F9111', 'AXIS F9111 Main Unit'],
  ['V5925', 'AXIS V5925 PTZ Camera'],
] as const;
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
/** AXIS OUIs the serials start with. */
const OUIS = ['ACCC8E', 'B8A44F', 'E82725'] as const;

export interface InventoryQueryOptions {
  sites: number;
  camerasPerSite: number;
  smallGrant: number;
  /** Runs per query, unless its time budget runs out first (never fewer than MIN_RUNS). */
  runs: number;
  secondsPerQuery: number;
  warmup: number;
  explain: boolean;
  /** Leaves the seeded database in place (its URL is printed) for a closer look. */
  keep: boolean;
}

interface Seeded {
  bigUserId: string;
  smallUserId: string;
  /** A site both integrators may see. */
  sharedSiteId: string;
  seedMs: number;
}

/** Owners, sites, grants and cameras in a few INSERT … SELECT statements. */
async function seed(url: string, options: InventoryQueryOptions): Promise<Seeded> {
  const started = performance.now();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const owners = await sql<{ id: string }[]>`
      insert into organisations (name, kind)
      select 'Owner ' || g, 'owner' from generate_series(1, ${OWNERS}) g returning id`;
    const [big, small] = await sql<{ id: string }[]>`
      insert into organisations (name, kind)
      values ('Wide Integrator', 'integrator'), ('Narrow Integrator', 'integrator') returning id`;
    const [bigUser, smallUser, ownerUser] = await sql<{ id: string }[]>`
      insert into users (email, name)
      values ('wide@bench.test', 'Wide Admin'), ('narrow@bench.test', 'Narrow Admin'),
        ('owner@bench.test', 'Owner Approver')
      returning id`;
    await sql`
      insert into memberships (user_id, org_id, role) values
        (${bigUser!.id}, ${big!.id}, 'integrator-admin'),
        (${smallUser!.id}, ${small!.id}, 'integrator-admin'),
        (${ownerUser!.id}, ${owners[0]!.id}, 'owner-approver')`;
    await sql`
      insert into sites (owner_org_id, name)
      select (${owners.map((owner) => owner.id)}::uuid[])[g % ${OWNERS} + 1],
        'Site ' || lpad(g::text, 5, '0')
      from generate_series(0, ${options.sites - 1}) g`;
    await sql`
      insert into site_grants (site_id, integrator_org_id, granted_by)
      select id, ${big!.id}, ${ownerUser!.id} from sites`;
    const [shared] = await sql<{ id: string }[]>`
      insert into site_grants (site_id, integrator_org_id, granted_by)
      select id, ${small!.id}, ${ownerUser!.id} from sites order by name limit ${options.smallGrant}
      returning site_id as id`;
    await sql`
      insert into agents (site_id, name, public_key, status, last_seen_at)
      select id, 'Agent at ' || name, 'bench-' || id, 'online', now() from sites`;
    // Deterministic spreads over the camera's index i: models, firmware, access states (70 %
    // authenticated, the rest failing in each way or not probed yet), last seen over 30 days,
    // 3 % lost.
    await sql`
      insert into cameras (serial, site_id, model, product_name, firmware, hardware_id, mac,
        address, url, source, access_state, agent_id, first_seen_at, last_seen_at, lost_at)
      select
        (${OUIS}::text[])[i % 3 + 1] || lpad(upper(to_hex(i)), 6, '0'),
        site_id,
        (${MODELS.map((model) => model[0])}::text[])[(i * 7 + site_index) % ${MODELS.length} + 1],
        (${MODELS.map((model) => model[1])}::text[])[(i * 7 + site_index) % ${MODELS.length} + 1],
        (${FIRMWARE}::text[])[(i * 13 + site_index) % ${FIRMWARE.length} + 1],
        '9A1.1', null,
        '10.' || (site_index / 256) || '.' || (site_index % 256) || '.' || (10 + c),
        'http://10.' || (site_index / 256) || '.' || (site_index % 256) || '.' || (10 + c) || '/',
        'scan',
        (case
          when i * 31 % 100 < 70 then 'authenticated'
          when i * 31 % 100 < 78 then 'login-failed'
          when i * 31 % 100 < 83 then 'needs-setup'
          when i * 31 % 100 < 86 then 'locked-out'
          when i * 31 % 100 < 93 then 'unreachable'
        end)::access_state,
        agent_id,
        seen - interval '40 days',
        seen,
        case when i % 33 = 0 then seen end
      from (
        select s.id as site_id, a.id as agent_id, (row_number() over (order by s.name) - 1)::int as site_index
        from sites s join agents a on a.site_id = s.id
      ) as site
      cross join generate_series(0, ${options.camerasPerSite - 1}) as c
      cross join lateral (select site_index * ${options.camerasPerSite} + c as i) as camera
      cross join lateral (select now() - (i * 7919 % 43200) * interval '1 minute' as seen) as seen`;
    // As autovacuum leaves a table after a bulk insert: statistics, and the visibility map that
    // lets counts read indexes alone.
    await sql`vacuum analyze`;
    return {
      bigUserId: bigUser!.id,
      smallUserId: smallUser!.id,
      sharedSiteId: shared!.id,
      seedMs: performance.now() - started,
    };
  } finally {
    await sql.end();
  }
}

interface Measured {
  name: string;
  total: number;
  p50: number;
  p95: number;
  p99: number;
  runs: number;
  /** CPU time of the service's PostgreSQL backends per run, ms (parallel workers not included). */
  serverCpuMs: number;
}

interface QueryCase {
  name: string;
  run(): Promise<number>;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

function cases(
  handle: DatabaseHandle,
  actor: Actor,
  sharedSiteId: string,
  deepPage: number,
): QueryCase[] {
  const list = (input: FleetQueryInput) => async () =>
    (await listFleet(handle.db, actor, FleetQuerySchema.parse(input))).total;
  return [
    { name: 'first page (serial)', run: list({}) },
    { name: 'page 20 (serial)', run: list({ page: 20 }) },
    { name: `middle page ${deepPage} (serial)`, run: list({ page: deepPage }) },
    { name: 'sort by last seen, newest', run: list({ sort: 'lastSeen', dir: 'desc' }) },
    { name: 'sort by model', run: list({ sort: 'model' }) },
    { name: 'sort by firmware', run: list({ sort: 'firmware' }) },
    { name: 'sort by site', run: list({ sort: 'site' }) },
    { name: 'filter: one site', run: list({ siteId: sharedSiteId }) },
    { name: 'filter: access login-failed', run: list({ accessState: 'login-failed' }) },
    { name: 'filter: access unknown', run: list({ accessState: 'unknown' }) },
    { name: 'filter: model P3265-LVE', run: list({ model: 'P3265-LVE' }) },
    { name: 'filter: firmware 10.12.240', run: list({ firmware: '10.12.240' }) },
    { name: 'filter: not seen for 7d, lost', run: list({ notSeenFor: '7d', presence: 'lost' }) },
    { name: 'search: serial prefix ACCC8E01', run: list({ q: 'ACCC8E01' }) },
    { name: 'search: MAC ac:cc:8e:00:12', run: list({ q: 'ac:cc:8e:00:12' }) },
    { name: 'search: model "m3086"', run: list({ q: 'm3086' }) },
    { name: 'search: name "bullet"', run: list({ q: 'bullet' }) },
    {
      name: 'search "dome", sort last seen',
      run: list({ q: 'dome', sort: 'lastSeen', dir: 'desc' }),
    },
    {
      name: 'facets (sites, models, firmware)',
      run: async () => (await fleetFacets(handle.db, actor)).sites.length,
    },
  ];
}

/** CPU time so far of each backend serving the service's pool, by pid. */
async function backendCpu(monitor: postgres.Sql, database: string): Promise<Map<number, number>> {
  const rows = await monitor<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = ${database} and application_name = ${SERVICE_APP}`;
  return new Map(rows.map((row) => [row.pid, processCpuMicros(row.pid)]));
}

async function measure(
  query: QueryCase,
  options: InventoryQueryOptions,
  monitor: postgres.Sql,
  database: string,
): Promise<Measured> {
  let total = 0;
  for (let index = 0; index < options.warmup; index += 1) total = await query.run();
  const times: number[] = [];
  const before = await backendCpu(monitor, database);
  const deadline = performance.now() + options.secondsPerQuery * 1000;
  while (times.length < options.runs && (times.length < MIN_RUNS || performance.now() < deadline)) {
    const started = performance.now();
    total = await query.run();
    times.push(performance.now() - started);
  }
  let cpuMicros = 0;
  for (const [pid, cpu] of await backendCpu(monitor, database))
    cpuMicros += cpu - (before.get(pid) ?? 0);
  times.sort((a, b) => a - b);
  return {
    name: query.name,
    total,
    p50: percentile(times, 0.5),
    p95: percentile(times, 0.95),
    p99: percentile(times, 0.99),
    runs: times.length,
    serverCpuMs: cpuMicros / 1000 / times.length,
  };
}

interface PostgresDebug {
  options: { debug: ((...args: unknown[]) => void) | boolean };
}

/** Runs the query once and prints EXPLAIN ANALYZE of every statement it sent. */
async function explain(handle: DatabaseHandle, url: string, query: QueryCase): Promise<string> {
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
    for (const statement of statements) {
      const rows = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
        `explain (analyze, buffers) ${statement.text}`,
        statement.parameters as postgres.ParameterOrJSON<never>[],
      );
      plans.push(statement.text, ...rows.map((row) => row['QUERY PLAN']), '');
    }
    return plans.join('\n');
  } finally {
    await sql.end();
  }
}

export interface InventoryQueryFigures {
  server: string;
  machineBusyBefore: number;
  cameras: number;
  seedMs: number;
  results: { actor: string; sites: number; rows: Measured[] }[];
  plans: string[];
}

export async function runInventoryQuery(
  options: InventoryQueryOptions,
): Promise<InventoryQueryFigures> {
  const machineBusyBefore = await sampleMachineBusy();
  const pg = await startBenchPostgres();
  let database: BenchDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let monitor: postgres.Sql | undefined;
  try {
    const server = `${await describeServer(pg.url)} (${pg.origin})`;
    database = await createBenchDatabase(pg.url, 'bench_inventory');
    const seeded = await seed(database.url, options);
    const serviceUrl = new URL(database.url);
    serviceUrl.searchParams.set('application_name', SERVICE_APP);
    handle = await createDb({ url: serviceUrl.toString() });
    monitor = postgres(database.url, { max: 1, onnotice: () => {} });
    const results: InventoryQueryFigures['results'] = [];
    const plans: string[] = [];
    for (const [label, userId] of [
      ['integrator granted every site', seeded.bigUserId],
      [`integrator granted ${options.smallGrant} sites`, seeded.smallUserId],
    ] as const) {
      const actor = await loadActor(handle.db, userId, null);
      if (actor === null) throw new Error('The seeded user did not load.');
      const first = await listFleet(handle.db, actor, FleetQuerySchema.parse({}));
      const deepPage = Math.max(2, Math.floor(first.pageCount / 2));
      const rows: Measured[] = [];
      for (const query of cases(handle, actor, seeded.sharedSiteId, deepPage)) {
        rows.push(await measure(query, options, monitor, database.name));
        if (options.explain) plans.push(await explain(handle, database.url, query));
      }
      const facets = await fleetFacets(handle.db, actor);
      results.push({ actor: label, sites: facets.sites.length, rows });
    }
    return {
      server,
      machineBusyBefore,
      cameras: options.sites * options.camerasPerSite,
      seedMs: seeded.seedMs,
      results,
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

export function formatFigures(
  figures: InventoryQueryFigures,
  options: InventoryQueryOptions,
): string {
  const ms = (value: number) => value.toFixed(1).padStart(7);
  const lines = [
    `inventory query: ${figures.cameras.toLocaleString('en')} cameras at ${options.sites.toLocaleString('en')} sites, seeded in ${(figures.seedMs / 1000).toFixed(1)} s; each query run up to ${options.runs} times (fewer past ${options.secondsPerQuery} s, never under ${Math.min(options.runs, MIN_RUNS)}) after ${options.warmup} warm-up`,
    `  database  ${figures.server}`,
    `  machine   ${availableParallelism()} cores, ${(figures.machineBusyBefore * 100).toFixed(0)}% busy with other work just before the run; server CPU is what the query cost PostgreSQL (its leader backend), the latency an idle machine would approach`,
  ];
  for (const result of figures.results) {
    lines.push(
      `  ${result.actor} (${result.sites} sites visible)`,
      `    ${'query'.padEnd(38)} ${'matches'.padStart(8)}  runs     p50     p95     p99  server CPU  (ms)`,
    );
    for (const row of result.rows) {
      const flag = row.p95 > TARGET_P95_MS ? `  over the ${TARGET_P95_MS} ms target` : '';
      lines.push(
        `    ${row.name.padEnd(38)} ${row.total.toLocaleString('en').padStart(8)} ${String(row.runs).padStart(5)} ${ms(row.p50)} ${ms(row.p95)} ${ms(row.p99)}     ${ms(row.serverCpuMs)}${flag}`,
      );
    }
  }
  const worst = figures.results
    .flatMap((result) => result.rows)
    .reduce((a, b) => (b.p95 > a.p95 ? b : a));
  lines.push(
    `  slowest p95 ${worst.p95.toFixed(1)} ms (${worst.name}); target p95 < ${TARGET_P95_MS} ms, ratio ${(worst.p95 / TARGET_P95_MS).toFixed(2)}`,
  );
  return [...lines, ...figures.plans].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '2000' },
      'cameras-per-site': { type: 'string', default: '50' },
      'small-grant': { type: 'string', default: '20' },
      runs: { type: 'string', default: '200' },
      'seconds-per-query': { type: 'string', default: '4' },
      warmup: { type: 'string', default: '5' },
      explain: { type: 'boolean', default: false },
      'keep-database': { type: 'boolean', default: false },
    },
  });
  const options: InventoryQueryOptions = {
    sites: Number(values.sites),
    camerasPerSite: Number(values['cameras-per-site']),
    smallGrant: Number(values['small-grant']),
    runs: Number(values.runs),
    secondsPerQuery: Number(values['seconds-per-query']),
    warmup: Number(values.warmup),
    explain: values.explain,
    keep: values['keep-database'],
  };
  console.log(formatFigures(await runInventoryQuery(options), options));
}
