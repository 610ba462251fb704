'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useTRPC } from '~/trpc/react.tsx';
import { accessStateLabel, formatAbsolute } from '../../fleet/format.tsx';
import {
  FINDING_CODES,
  auditParamsFrom,
  auditQueryString,
  exportUrl,
  formatCount,
  labelOf,
  plural,
} from '../audit-format.tsx';
import { TrendTable } from '../fleet-audit-view.tsx';
import '../fleet-audit.css';

const REPORT_CAMERAS = 200;
const REPORT_SNAPSHOTS = 12;

/** The audit as a printable document: what was found, where, what to do, and the trend. */
export function AuditReportView() {
  const trpc = useTRPC();
  const search = useSearchParams();
  const params = auditParamsFrom(new URLSearchParams(search.toString()), FINDING_CODES);
  const scope = { orgId: params.orgId, siteId: params.siteId };
  const summary = useQuery(trpc.fleetAudit.summary.queryOptions(scope));
  const trend = useQuery(trpc.fleetAudit.trend.queryOptions({ ...scope, limit: REPORT_SNAPSHOTS }));
  const cameras = useQuery({
    ...trpc.fleetAudit.findings.queryOptions({ ...scope, limit: REPORT_CAMERAS }),
    enabled: params.siteId !== undefined,
  });

  if (summary.isPending) return <p role="status">Preparing the report…</p>;
  if (summary.isError) {
    return (
      <p role="alert" className="form-error">
        The audit could not be run: {summary.error.message}
      </p>
    );
  }
  const data = summary.data;
  const siteName = params.siteId ? data.sites[0]?.siteName : undefined;
  const withFindings = data.sites.filter((site) => site.withFindings > 0);
  return (
    <article className="fleet-audit report" aria-labelledby="report-heading">
      <p className="no-print">
        <Link href={`/fleet-audit?${auditQueryString(scope)}`}>← Fleet audit</Link>
      </p>
      <h1 id="report-heading">
        Fleet documentation audit: {data.organisation.name}
        {siteName ? `, ${siteName}` : ''}
      </h1>
      <p>
        Generated {formatAbsolute(data.generatedAt)} by Custody.{' '}
        {plural(data.fleet.cameras, 'camera')} at {plural(data.fleet.sites, 'site')};{' '}
        {formatCount(data.fleet.withFindings)} with at least one finding. A camera counts as not
        seen after {data.settings.staleAfterDays} days;{' '}
        {data.settings.firmwareFloor
          ? `the firmware floor is ${data.settings.firmwareFloor}`
          : 'no firmware floor is set'}
        .
      </p>
      <div className="actions no-print">
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
        <span>
          Download: <a href={exportUrl(scope, 'csv')}>CSV (cameras)</a>,{' '}
          <a href={exportUrl(scope, 'csv', 'sites')}>CSV (per site)</a>,{' '}
          <a href={exportUrl(scope, 'json')}>JSON</a>
        </span>
      </div>

      <section aria-labelledby="overall-heading" className="keep">
        <h2 id="overall-heading">{siteName ? 'Findings at this site' : 'Findings fleet-wide'}</h2>
        <table className="counts">
          <thead>
            <tr>
              <th scope="col">Finding</th>
              <th scope="col">Cameras</th>
              <th scope="col">What it means</th>
              <th scope="col">What to do</th>
            </tr>
          </thead>
          <tbody>
            {data.catalog.map((entry) => (
              <tr key={entry.code}>
                <th scope="row">{entry.label}</th>
                <td className="count">{formatCount(data.fleet.findings[entry.code])}</td>
                <td>{entry.meaning}</td>
                <td>{entry.remediation}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {params.siteId ? null : (
        <section aria-labelledby="sites-heading">
          <h2 id="sites-heading">Sites with findings</h2>
          <p>
            {formatCount(withFindings.length)} of {formatCount(data.sites.length)} sites have at
            least one finding.
          </p>
          {withFindings.length > 0 ? (
            <table className="counts" aria-label="Sites with findings">
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Cameras</th>
                  <th scope="col">With findings</th>
                  {data.catalog.map((entry) => (
                    <th key={entry.code} scope="col">
                      {entry.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {withFindings.map((site) => (
                  <tr key={site.siteId}>
                    <th scope="row">{site.siteName}</th>
                    <td className="count">{formatCount(site.cameras)}</td>
                    <td className="count">{formatCount(site.withFindings)}</td>
                    {data.catalog.map((entry) => (
                      <td key={entry.code} className="count">
                        {formatCount(site.findings[entry.code])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      )}

      {params.siteId && cameras.data ? (
        <section aria-labelledby="cameras-heading">
          <h2 id="cameras-heading">Cameras with findings</h2>
          {cameras.data.items.length === 0 ? (
            <p>None.</p>
          ) : (
            <table aria-label="Cameras with findings">
              <thead>
                <tr>
                  <th scope="col">Serial</th>
                  <th scope="col">Model</th>
                  <th scope="col">Firmware</th>
                  <th scope="col">Access</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Findings</th>
                </tr>
              </thead>
              <tbody>
                {cameras.data.items.map((camera) => (
                  <tr key={camera.serial}>
                    <td className="mono">{camera.serial}</td>
                    <td>{camera.model ?? '—'}</td>
                    <td>{camera.firmware ?? '—'}</td>
                    <td>{accessStateLabel(camera.accessState)}</td>
                    <td>{formatAbsolute(camera.lastSeenAt)}</td>
                    <td>{camera.findings.map((code) => labelOf(data.catalog, code)).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {cameras.data.nextCursor ? (
            <p>The first {REPORT_CAMERAS} cameras are listed; the CSV export has all of them.</p>
          ) : null}
        </section>
      ) : null}

      <section aria-labelledby="trend-heading">
        <h2 id="trend-heading">Trend (latest {REPORT_SNAPSHOTS} snapshots)</h2>
        {trend.data && trend.data.points.length > 0 ? (
          <TrendTable points={trend.data.points} catalog={data.catalog} />
        ) : (
          <p>No snapshot yet.</p>
        )}
      </section>
    </article>
  );
}
