import { readHealth } from '~/server/health.ts';

export const dynamic = 'force-dynamic';

const ENGINE_NAMES: Record<string, string> = {
  pglite: 'PGlite (embedded)',
  postgresql: 'PostgreSQL server',
};

export default async function HealthPage() {
  const health = await readHealth();
  const { database } = health;
  return (
    <>
      <h1>System health</h1>
      <p role="status" className={health.ok ? 'status-ok' : 'status-bad'}>
        {health.ok ? 'Healthy' : 'Degraded'}
      </p>
      <dl className="facts" aria-label="Database">
        <dt>Database engine</dt>
        <dd data-testid="db-engine">{ENGINE_NAMES[database.engine] ?? database.engine}</dd>
        {'error' in database ? (
          <>
            <dt>Error</dt>
            <dd>{database.error}</dd>
          </>
        ) : (
          <>
            <dt>PostgreSQL version</dt>
            <dd data-testid="db-version">{database.serverVersion}</dd>
            <dt>Migrations applied</dt>
            <dd data-testid="db-migrations">
              {database.migrationsApplied} of {database.migrationsKnown}
            </dd>
            <dt>Latest migration</dt>
            <dd data-testid="db-latest-migration">{database.latestMigration ?? 'none'}</dd>
          </>
        )}
        <dt>Uptime</dt>
        <dd>{health.uptimeSeconds} s</dd>
      </dl>
    </>
  );
}
