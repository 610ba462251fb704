'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useRef, useState, type FormEvent } from 'react';
import { Field } from '~/app/_components/field.tsx';
import type { RouterOutputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, accessStateLabel, formatAbsolute, useNow } from '../fleet/format.tsx';
import {
  FINDING_CODES,
  TrendChart,
  auditParamsFrom,
  auditQueryString,
  exportUrl,
  formatCount,
  labelOf,
  plural,
  type AuditCatalog,
  type AuditParams,
  type AuditSummary,
} from './audit-format.tsx';
import './fleet-audit.css';

const VMS_WRITER_ROLES = new Set(['integrator-admin', 'technician', 'owner-approver']);
const PAGE_SIZE = 50;

/** The audit of the caller's organisation: counts, drill-down, trend, settings, exports. */
export function FleetAuditView() {
  const trpc = useTRPC();
  const search = useSearchParams();
  const pathname = usePathname();
  const router = useRouter();
  const params = auditParamsFrom(new URLSearchParams(search.toString()), FINDING_CODES);
  const scope = { orgId: params.orgId, siteId: params.siteId };
  const orgs = useQuery(trpc.fleetAudit.organisations.queryOptions());
  const summary = useQuery(trpc.fleetAudit.summary.queryOptions(scope));
  const me = useQuery(trpc.me.get.queryOptions());
  const mayRecordVms = (me.data?.memberships ?? []).some((m) => VMS_WRITER_ROLES.has(m.role));

  const navigate = (next: AuditParams) => {
    const query = auditQueryString(next);
    router.push(query === '' ? pathname : `${pathname}?${query}`, { scroll: false });
  };

  if (summary.isPending) return <p role="status">Running the audit…</p>;
  if (summary.isError) {
    return (
      <p role="alert" className="form-error">
        {summary.error.data?.code === 'NOT_FOUND'
          ? 'No such site or organisation among yours.'
          : `The audit could not be run: ${summary.error.message}`}
      </p>
    );
  }
  const data = summary.data;
  const site = params.siteId ? data.sites.find((entry) => entry.siteId === params.siteId) : null;
  return (
    <div className="fleet-audit">
      {orgs.data && orgs.data.length > 1 ? (
        <div className="field no-print">
          <label htmlFor="audit-org">Organisation</label>
          <select
            id="audit-org"
            value={data.organisation.id}
            onChange={(event) => navigate({ orgId: event.target.value })}
          >
            {orgs.data.map((org) => (
              <option key={org.id} value={org.id}>
                {org.name}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <p>
        {data.organisation.name}: {plural(data.fleet.cameras, 'camera')} at{' '}
        {plural(data.fleet.sites, 'site')}, {formatCount(data.fleet.withFindings)} with at least one
        finding. Audited {formatAbsolute(data.generatedAt)}; not seen means not seen for{' '}
        {data.settings.staleAfterDays} days
        {data.settings.firmwareFloor
          ? `; firmware floor ${data.settings.firmwareFloor}`
          : '; no firmware floor'}
        .
      </p>
      {params.siteId ? (
        <p>
          Showing {site?.siteName ?? 'one site'} only.{' '}
          <Link href={`${pathname}?${auditQueryString({ orgId: params.orgId })}`}>Whole fleet</Link>
        </p>
      ) : null}
      <Actions params={params} />
      <SummaryTable data={data} params={params} />
      {params.finding ? (
        <Drilldown
          params={params}
          catalog={data.catalog}
          mayRecordVms={mayRecordVms}
          onClose={() => navigate({ ...params, finding: undefined })}
        />
      ) : null}
      <Trend params={params} catalog={data.catalog} />
      <Settings orgId={params.orgId} />
      {mayRecordVms ? <VmsImport /> : null}
      <section aria-labelledby="catalog-heading">
        <h2 id="catalog-heading">What the findings mean</h2>
        <dl className="catalog">
          {data.catalog.map((entry) => (
            <div key={entry.code}>
              <dt>{entry.label}</dt>
              <dd>
                {entry.meaning} <span className="muted">What to do: {entry.remediation}</span>
              </dd>
            </div>
          ))}
        </dl>
      </section>
    </div>
  );
}

/** Downloads of the whole audit (or its site), whatever the drill-down shows. */
function Actions({ params }: { params: AuditParams }) {
  const scope = { orgId: params.orgId, siteId: params.siteId };
  const reportQuery = auditQueryString(scope);
  return (
    <div className="actions no-print">
      <span>
        Download: <a href={exportUrl(scope, 'csv')}>CSV (cameras)</a>,{' '}
        <a href={exportUrl(scope, 'csv', 'sites')}>CSV (per site)</a>,{' '}
        <a href={exportUrl(scope, 'json')}>JSON</a>
      </span>
      <Link href={`/fleet-audit/report${reportQuery ? `?${reportQuery}` : ''}`}>Print report</Link>
    </div>
  );
}

function CountCell({
  count,
  params,
  siteId,
  finding,
}: {
  count: number;
  params: AuditParams;
  siteId: string | undefined;
  finding: AuditParams['finding'];
}) {
  if (count === 0) return <td className="count">0</td>;
  const query = auditQueryString({ orgId: params.orgId, siteId, finding });
  return (
    <td className="count">
      <Link href={`/fleet-audit?${query}#drilldown-heading`} scroll={false}>
        {formatCount(count)}
      </Link>
    </td>
  );
}

function SummaryTable({ data, params }: { data: AuditSummary; params: AuditParams }) {
  const [filter, setFilter] = useState('');
  const shown = data.sites.filter((site) =>
    site.siteName.toLowerCase().includes(filter.trim().toLowerCase()),
  );
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Findings per site</h2>
      {data.sites.length > 10 ? (
        <div className="field no-print">
          <label htmlFor="site-filter">Find a site</label>
          <input
            id="site-filter"
            type="search"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        </div>
      ) : null}
      <div className="table-scroll">
        <table className="counts">
          <caption className="visually-hidden">
            Cameras with each finding, fleet-wide and per site
          </caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Cameras</th>
              <th scope="col">With findings</th>
              {data.catalog.map((entry) => (
                <th key={entry.code} scope="col" title={entry.meaning}>
                  {entry.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr className="fleet-row">
              <th scope="row">{params.siteId ? 'This site' : 'Fleet-wide'}</th>
              <td className="count">{formatCount(data.fleet.cameras)}</td>
              <CountCell
                count={data.fleet.withFindings}
                params={params}
                siteId={params.siteId}
                finding="any"
              />
              {data.catalog.map((entry) => (
                <CountCell
                  key={entry.code}
                  count={data.fleet.findings[entry.code]}
                  params={params}
                  siteId={params.siteId}
                  finding={entry.code}
                />
              ))}
            </tr>
            {(params.siteId ? [] : shown).map((site) => (
              <tr key={site.siteId}>
                <th scope="row">
                  <Link
                    href={`/fleet-audit?${auditQueryString({ orgId: params.orgId, siteId: site.siteId })}`}
                  >
                    {site.siteName}
                  </Link>
                </th>
                <td className="count">{formatCount(site.cameras)}</td>
                <CountCell
                  count={site.withFindings}
                  params={params}
                  siteId={site.siteId}
                  finding="any"
                />
                {data.catalog.map((entry) => (
                  <CountCell
                    key={entry.code}
                    count={site.findings[entry.code]}
                    params={params}
                    siteId={site.siteId}
                    finding={entry.code}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data.sites.length === 0 ? <p>No camera at your sites yet.</p> : null}
    </section>
  );
}

type FindingsPage = RouterOutputs['fleetAudit']['findings'];

function Drilldown({
  params,
  catalog,
  mayRecordVms,
  onClose,
}: {
  params: AuditParams;
  catalog: AuditCatalog;
  mayRecordVms: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const finding = params.finding === 'any' ? undefined : params.finding;
  const input = { orgId: params.orgId, siteId: params.siteId, finding, limit: PAGE_SIZE };
  const pages = useInfiniteQuery(
    trpc.fleetAudit.findings.infiniteQueryOptions(input, {
      getNextPageParam: (page: FindingsPage) => page.nextCursor ?? undefined,
    }),
  );
  const mark = useMutation(
    trpc.fleetAudit.markVms.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.fleetAudit.pathFilter());
      },
    }),
  );
  const description = finding ? catalog.find((entry) => entry.code === finding) : undefined;
  const items = pages.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="drilldown-heading">
      <h2 id="drilldown-heading">{description ? description.label : 'Cameras with any finding'}</h2>
      {description ? (
        <p>
          {description.meaning} <strong>What to do:</strong> {description.remediation}
        </p>
      ) : null}
      <p className="no-print actions">
        <a href={exportUrl(params, 'csv')}>Download these cameras as CSV</a>
        <button type="button" className="link-button" onClick={onClose}>
          Close this list
        </button>
      </p>
      {mark.error ? (
        <p role="alert" className="form-error">
          {mark.error.message}
        </p>
      ) : null}
      {pages.isPending ? (
        <p role="status">Loading cameras…</p>
      ) : pages.isError ? (
        <p role="alert" className="form-error">
          The cameras could not be loaded: {pages.error.message}
        </p>
      ) : items.length === 0 ? (
        <p>No camera has this finding.</p>
      ) : (
        <div className="table-scroll">
          <table aria-label="Cameras with findings">
            <thead>
              <tr>
                <th scope="col">Serial</th>
                <th scope="col">Site</th>
                <th scope="col">Model</th>
                <th scope="col">Firmware</th>
                <th scope="col">Access</th>
                <th scope="col">Last seen</th>
                <th scope="col">Findings</th>
                {mayRecordVms && finding === 'not-in-vms' ? <th scope="col">VMS</th> : null}
              </tr>
            </thead>
            <tbody>
              {items.map((camera) => (
                <tr key={camera.serial}>
                  <td className="mono">
                    <Link href={`/cameras/${camera.serial}`}>{camera.serial}</Link>
                  </td>
                  <td>{camera.siteName}</td>
                  <td>{camera.model ?? '—'}</td>
                  <td>{camera.firmware ?? '—'}</td>
                  <td>{accessStateLabel(camera.accessState)}</td>
                  <td>
                    <Time value={camera.lastSeenAt} now={now} />
                  </td>
                  <td>
                    <ul className="findings">
                      {camera.findings.map((code) => (
                        <li key={code}>{labelOf(catalog, code)}</li>
                      ))}
                    </ul>
                  </td>
                  {mayRecordVms && finding === 'not-in-vms' ? (
                    <td>
                      <button
                        type="button"
                        disabled={mark.isPending}
                        onClick={() => mark.mutate({ serials: [camera.serial] })}
                      >
                        Mark as in the VMS
                        <span className="visually-hidden"> ({camera.serial})</span>
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages.hasNextPage ? (
        <button
          type="button"
          className="no-print"
          disabled={pages.isFetchingNextPage}
          onClick={() => void pages.fetchNextPage()}
        >
          {pages.isFetchingNextPage ? 'Loading…' : 'More cameras'}
        </button>
      ) : null}
    </section>
  );
}

function Trend({ params, catalog }: { params: AuditParams; catalog: AuditCatalog }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.fleetAudit.settings.queryOptions({ orgId: params.orgId }));
  const trend = useQuery(
    trpc.fleetAudit.trend.queryOptions({ orgId: params.orgId, siteId: params.siteId, limit: 60 }),
  );
  const snapshot = useMutation(
    trpc.fleetAudit.snapshotNow.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.fleetAudit.trend.pathFilter());
      },
    }),
  );
  const points = trend.data?.points ?? [];
  return (
    <section aria-labelledby="trend-heading">
      <h2 id="trend-heading">Trend</h2>
      <p className="muted">
        From the audit snapshots, taken every {settings.data?.snapshotIntervalHours ?? '…'} hours
        and on demand.
      </p>
      {settings.data?.canEdit ? (
        <p className="no-print">
          <button
            type="button"
            disabled={snapshot.isPending}
            onClick={() => snapshot.mutate({ orgId: params.orgId })}
          >
            {snapshot.isPending ? 'Taking a snapshot…' : 'Take a snapshot now'}
          </button>{' '}
          <span role="status">
            {snapshot.data ? `Snapshot taken ${formatAbsolute(snapshot.data.takenAt)}.` : null}
          </span>
          {snapshot.error ? (
            <span role="alert" className="form-error">
              {' '}
              {snapshot.error.message}
            </span>
          ) : null}
        </p>
      ) : null}
      {trend.isPending ? (
        <p role="status">Loading the trend…</p>
      ) : trend.isError ? (
        <p role="alert" className="form-error">
          The trend could not be loaded: {trend.error.message}
        </p>
      ) : points.length === 0 ? (
        <p>No snapshot yet.</p>
      ) : (
        <>
          <TrendChart trend={trend.data} catalog={catalog} />
          <TrendTable points={points} catalog={catalog} />
        </>
      )}
    </section>
  );
}

export function TrendTable({
  points,
  catalog,
}: {
  points: RouterOutputs['fleetAudit']['trend']['points'];
  catalog: AuditCatalog;
}) {
  return (
    <div className="table-scroll">
      <table className="counts" aria-label="Snapshots">
        <thead>
          <tr>
            <th scope="col">Taken</th>
            <th scope="col">Cameras</th>
            {catalog.map((entry) => (
              <th key={entry.code} scope="col">
                {entry.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...points].reverse().map((point) => (
            <tr key={point.takenAt.toISOString()}>
              <th scope="row">
                {formatAbsolute(point.takenAt)}
                {point.trigger === 'manual' ? ' (on demand)' : ''}
              </th>
              <td className="count">{formatCount(point.cameras)}</td>
              {catalog.map((entry) => (
                <td key={entry.code} className="count">
                  {formatCount(point.findings[entry.code])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Settings({ orgId }: { orgId: string | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.fleetAudit.settings.queryOptions({ orgId }));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const update = useMutation(
    trpc.fleetAudit.updateSettings.mutationOptions({
      onSuccess: async () => {
        setFieldErrors({});
        await queryClient.invalidateQueries(trpc.fleetAudit.pathFilter());
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );
  if (!settings.data) return null;
  const current = settings.data;
  if (!current.canEdit) {
    return (
      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <dl className="facts">
          <dt>Firmware floor</dt>
          <dd>{current.firmwareFloor ?? 'None'}</dd>
          <dt>Not seen after</dt>
          <dd>{current.staleAfterDays} days</dd>
          <dt>Snapshots</dt>
          <dd>every {current.snapshotIntervalHours} hours</dd>
        </dl>
      </section>
    );
  }
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const floor = formText(form, 'firmwareFloor').trim();
    update.mutate({
      orgId,
      firmwareFloor: floor === '' ? null : floor,
      staleAfterDays: Number(formText(form, 'staleAfterDays')),
      snapshotIntervalHours: Number(formText(form, 'snapshotIntervalHours')),
    });
  }
  return (
    <section aria-labelledby="settings-heading" className="no-print">
      <h2 id="settings-heading">Settings</h2>
      <form className="stack" onSubmit={onSubmit} noValidate key={current.updatedAt?.toISOString()}>
        <Field
          name="firmwareFloor"
          label="Firmware floor"
          hint="Cameras with older firmware are a finding; leave empty for none (e.g. 11.11.73)."
          defaultValue={current.firmwareFloor ?? ''}
          errors={fieldErrors.firmwareFloor}
        />
        <Field
          name="staleAfterDays"
          label="Not seen after (days)"
          type="number"
          min={1}
          max={3650}
          defaultValue={current.staleAfterDays}
          errors={fieldErrors.staleAfterDays}
        />
        <Field
          name="snapshotIntervalHours"
          label="Snapshot every (hours)"
          type="number"
          min={1}
          max={744}
          defaultValue={current.snapshotIntervalHours}
          errors={fieldErrors.snapshotIntervalHours}
        />
        {update.error && Object.keys(fieldErrors).length === 0 ? (
          <p role="alert" className="form-error">
            {update.error.message}
          </p>
        ) : null}
        <button type="submit" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save settings'}
        </button>
        <p role="status" className="status-ok">
          {update.isSuccess ? 'Settings saved.' : null}
        </p>
      </form>
    </section>
  );
}

function VmsImport() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const run = useMutation(
    trpc.fleetAudit.importVms.mutationOptions({
      onSuccess: async (report) => {
        setFieldErrors({});
        if (report.applied) await queryClient.invalidateQueries(trpc.fleetAudit.pathFilter());
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );
  function submit(dryRun: boolean) {
    const form = formRef.current;
    if (!form) return;
    const data = new FormData(form);
    run.mutate({ text: formText(data, 'text'), platform: formText(data, 'platform'), dryRun });
  }
  const report = run.data;
  return (
    <section aria-labelledby="vms-heading" className="no-print">
      <h2 id="vms-heading">Import the VMS camera list</h2>
      <p className="muted">
        Paste the list your VMS exports (one serial or MAC address per line, or CSV with a serial or
        MAC column). Check it first: a list with a bad line imports nothing.
      </p>
      <form
        ref={formRef}
        className="stack"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          submit(false);
        }}
      >
        <Field
          name="platform"
          label="VMS"
          placeholder="AXIS Camera Station"
          errors={fieldErrors.platform}
        />
        <div className="field">
          <label htmlFor="field-text">Camera list</label>
          <textarea
            id="field-text"
            name="text"
            aria-invalid={fieldErrors.text ? true : undefined}
            aria-describedby={fieldErrors.text ? 'field-text-error' : undefined}
          />
          {fieldErrors.text ? (
            <span id="field-text-error" className="field-error">
              {fieldErrors.text.join(' ')}
            </span>
          ) : null}
        </div>
        <div className="actions">
          <button type="button" disabled={run.isPending} onClick={() => submit(true)}>
            Check the list
          </button>
          <button type="submit" disabled={run.isPending}>
            Import
          </button>
        </div>
      </form>
      {run.error && Object.keys(fieldErrors).length === 0 ? (
        <p role="alert" className="form-error">
          {run.error.message}
        </p>
      ) : null}
      <div role="status">
        {report ? (
          <>
            <p className={report.errors.length > 0 ? 'status-bad' : 'status-ok'}>
              {report.errors.length > 0
                ? `${report.errors.length} line(s) could not be read: nothing was imported.`
                : report.applied
                  ? `Imported: ${formatCount(report.matched)} cameras of your fleet are in the VMS (${formatCount(report.added)} new).`
                  : `Ready: ${formatCount(report.matched)} cameras of your fleet (${formatCount(report.added)} new).`}
              {report.unknown.length > 0
                ? ` ${formatCount(report.unknown.length)} serial(s) are not cameras of your sites and are left out.`
                : ''}
            </p>
            {report.errors.length > 0 ? (
              <ul>
                {report.errors.map((error) => (
                  <li key={error.line}>
                    Line {error.line}: {error.reason} <span className="mono">{error.text}</span>
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        ) : null}
      </div>
    </section>
  );
}
