'use client';

import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import {
  ACCESS_STATE_FILTERS,
  FLEET_PAGE_SIZES,
  PRESENCE_FILTERS,
  SEEN_PRESETS,
  fleetQueryFromParams,
  fleetQueryToParams,
  hasFilters,
  type FleetQuery,
  type FleetSort,
} from '~/server/services/fleet-query.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { ACCESS_STATE_LABELS, Time, accessStateLabel, useNow } from './format.tsx';
import { LiveStatus, useFleetLive, useThrottled, type FleetChanges } from './use-fleet-live.tsx';

type FleetPage = RouterOutputs['fleet']['list'];
type FleetCamera = FleetPage['items'][number];

const SEARCH_DELAY_MS = 300;
/** A live change the page cannot place by itself reloads the page at most this often. */
const REFETCH_EVERY_MS = 1_000;

const COLUMNS: { sort: FleetSort | null; label: string }[] = [
  { sort: 'serial', label: 'Serial' },
  { sort: 'model', label: 'Model' },
  { sort: 'firmware', label: 'Firmware' },
  { sort: null, label: 'Address' },
  { sort: 'accessState', label: 'Access state' },
  { sort: 'site', label: 'Site' },
  { sort: 'lastSeen', label: 'Last seen' },
];

const PRESENCE_LABELS: Record<(typeof PRESENCE_FILTERS)[number], string> = {
  present: 'Currently seen',
  lost: 'No longer seen',
};

/** The fleet inventory: the URL holds the view (filters, sort, page), so it can be shared. */
export function FleetView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const params = useSearchParams();
  const pathname = usePathname();
  const router = useRouter();
  const now = useNow();
  const query = useMemo(
    () => fleetQueryFromParams(new URLSearchParams(params.toString())),
    [params],
  );

  const list = useQuery({
    ...trpc.fleet.list.queryOptions(query),
    placeholderData: keepPreviousData,
  });
  const facets = useQuery(trpc.fleet.facets.queryOptions({}));

  function navigate(patch: Partial<FleetQuery>, how: 'push' | 'replace' = 'push') {
    const next = { ...query, page: 1, ...patch };
    const search = fleetQueryToParams(next).toString();
    const url = search === '' ? pathname : `${pathname}?${search}`;
    if (how === 'replace') router.replace(url, { scroll: false });
    else router.push(url, { scroll: false });
  }

  const refetch = useThrottled(() => {
    void queryClient.invalidateQueries(trpc.fleet.list.queryFilter());
    void queryClient.invalidateQueries(trpc.fleet.facets.queryFilter());
  }, REFETCH_EVERY_MS);

  function onChanges(changes: FleetChanges) {
    if (changes.cameras.length === 0) return;
    const updates = new Map(changes.cameras.map((camera) => [camera.serial, camera]));
    let placed = 0;
    queryClient.setQueryData(trpc.fleet.list.queryKey(query), (page) => {
      if (page === undefined) return page;
      const items = page.items.map((item) => {
        const update = updates.get(item.serial);
        if (update === undefined) return item;
        placed++;
        return update;
      });
      return placed === 0 ? page : { ...page, items };
    });
    // A camera new to this page, or a change that may move one in or out of it, needs the
    // server's answer; an in-place update of a plain listing does not.
    if (placed < updates.size || hasFilters(query) || query.sort !== 'serial') refetch();
  }

  const live = useFleetLive(
    { siteId: query.siteId, topics: ['cameras'] },
    { onChanges, onResync: refetch },
  );

  return (
    <div className="wide-page">
      <Filters
        query={query}
        facets={facets.data}
        onChange={navigate}
        onClear={() => {
          const kept = fleetQueryToParams({
            sort: query.sort,
            dir: query.dir,
            pageSize: query.pageSize,
          });
          router.push(kept.size === 0 ? pathname : `${pathname}?${kept.toString()}`, {
            scroll: false,
          });
        }}
      />
      <LiveStatus state={live} />
      <Results
        query={query}
        page={list.data}
        pending={list.isPending}
        fetching={list.isFetching}
        error={list.isError ? list.error.message : null}
        now={now}
        onNavigate={navigate}
      />
    </div>
  );
}

function Filters({
  query,
  facets,
  onChange,
  onClear,
}: {
  query: FleetQuery;
  facets: RouterOutputs['fleet']['facets'] | undefined;
  onChange: (patch: Partial<FleetQuery>, how?: 'push' | 'replace') => void;
  onClear: () => void;
}) {
  const [search, setSearch] = useState(query.q ?? '');
  const latest = useRef({ onChange, q: query.q });
  useEffect(() => {
    latest.current = { onChange, q: query.q };
  });
  // The URL is the truth: going back or following a link updates the box.
  useEffect(() => {
    setSearch((typed) => (typed.trim() === (query.q ?? '') ? typed : (query.q ?? '')));
  }, [query.q]);
  // Typing searches once the typist pauses; the history gets one entry, not one per key.
  useEffect(() => {
    const timer = setTimeout(() => {
      const { onChange: apply, q } = latest.current;
      if (search.trim() !== (q ?? '')) apply({ q: search.trim() || undefined }, 'replace');
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onChange({ q: search.trim() || undefined }, 'replace');
  }

  const select = (key: keyof FleetQuery) => (value: string) =>
    onChange({ [key]: value === '' ? undefined : value });

  return (
    <form role="search" aria-label="Filter cameras" className="filters" onSubmit={onSubmit}>
      <div className="field filters-search">
        <label htmlFor="fleet-search">Search serial, model or product name</label>
        <span className="search-row">
          <input
            id="fleet-search"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit">Search</button>
        </span>
      </div>
      <FilterSelect
        id="fleet-site"
        label="Site"
        value={query.siteId}
        onChange={select('siteId')}
        options={(facets?.sites ?? []).map((site) => [site.id, site.name])}
        allLabel="All sites"
      />
      <FilterSelect
        id="fleet-access"
        label="Access state"
        value={query.accessState}
        onChange={select('accessState')}
        options={ACCESS_STATE_FILTERS.map((state) => [state, ACCESS_STATE_LABELS[state]])}
        allLabel="Any access state"
      />
      <FilterSelect
        id="fleet-model"
        label="Model"
        value={query.model}
        onChange={select('model')}
        options={(facets?.models ?? []).map((model) => [model, model])}
        allLabel="All models"
      />
      <FilterSelect
        id="fleet-firmware"
        label="Firmware"
        value={query.firmware}
        onChange={select('firmware')}
        options={(facets?.firmware ?? []).map((firmware) => [firmware, firmware])}
        allLabel="All firmware"
      />
      <FilterSelect
        id="fleet-seen"
        label="Last seen within"
        value={query.seenWithin}
        onChange={select('seenWithin')}
        options={SEEN_PRESETS.map((preset) => [preset.value, `the last ${preset.label}`])}
        allLabel="Any time"
      />
      <FilterSelect
        id="fleet-unseen"
        label="Not seen for"
        value={query.notSeenFor}
        onChange={select('notSeenFor')}
        options={SEEN_PRESETS.map((preset) => [preset.value, `over ${preset.label}`])}
        allLabel="Any time"
      />
      <FilterSelect
        id="fleet-presence"
        label="Presence"
        value={query.presence}
        onChange={select('presence')}
        options={PRESENCE_FILTERS.map((presence) => [presence, PRESENCE_LABELS[presence]])}
        allLabel="Seen or not"
      />
      {hasFilters(query) ? (
        <button type="button" className="link-button" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function FilterSelect({
  id,
  label,
  value,
  onChange,
  options,
  allLabel,
}: {
  id: string;
  label: string;
  value: string | undefined;
  onChange: (value: string) => void;
  options: [string, string][];
  allLabel: string;
}) {
  // A value from a shared link that this user's facets lack is still shown as chosen.
  const known = value === undefined || options.some(([option]) => option === value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(event) => onChange(event.target.value)}>
        <option value="">{allLabel}</option>
        {known ? null : <option value={value}>{value}</option>}
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

function Results({
  query,
  page,
  pending,
  fetching,
  error,
  now,
  onNavigate,
}: {
  query: FleetQuery;
  page: FleetPage | undefined;
  pending: boolean;
  fetching: boolean;
  error: string | null;
  now: number;
  onNavigate: (patch: Partial<FleetQuery>) => void;
}) {
  if (pending) return <p role="status">Loading cameras…</p>;
  if (error !== null || page === undefined) {
    return (
      <p role="alert" className="form-error">
        The cameras could not be loaded: {error}
      </p>
    );
  }
  const first = (page.page - 1) * page.pageSize + 1;
  const last = first + page.items.length - 1;
  const summary =
    page.total === 0
      ? 'No cameras match.'
      : page.items.length === 0
        ? `No cameras on page ${page.page}; ${page.total} in all.`
        : `Showing ${first}–${last} of ${page.total} ${page.total === 1 ? 'camera' : 'cameras'}.`;

  function sortBy(sort: FleetSort) {
    onNavigate({ sort, dir: query.sort === sort && query.dir === 'asc' ? 'desc' : 'asc' });
  }

  return (
    <section aria-labelledby="fleet-results-heading">
      <h2 id="fleet-results-heading">Cameras</h2>
      <p role="status" className="muted">
        {summary}
      </p>
      {page.total === 0 ? (
        <EmptyFleet filtered={hasFilters(query)} />
      ) : (
        <div className="table-scroll">
          <table aria-busy={fetching}>
            <caption className="visually-hidden">
              Cameras, sorted by {COLUMNS.find((column) => column.sort === query.sort)?.label}{' '}
              {query.dir === 'asc' ? 'ascending' : 'descending'}
            </caption>
            <thead>
              <tr>
                {COLUMNS.map((column) => (
                  <SortableHeader
                    key={column.label}
                    label={column.label}
                    sort={column.sort}
                    query={query}
                    onSort={sortBy}
                  />
                ))}
              </tr>
            </thead>
            <tbody>
              {page.items.map((camera) => (
                <CameraRow key={camera.serial} camera={camera} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.total > 0 ? <Pager page={page} onNavigate={onNavigate} /> : null}
    </section>
  );
}

function EmptyFleet({ filtered }: { filtered: boolean }) {
  if (filtered) return <p>No camera matches these filters.</p>;
  return (
    <p>
      No cameras yet. They appear here as soon as an agent at one of your sites reports them:{' '}
      <Link href="/agents">enroll an agent</Link>.
    </p>
  );
}

function SortableHeader({
  label,
  sort,
  query,
  onSort,
}: {
  label: string;
  sort: FleetSort | null;
  query: FleetQuery;
  onSort: (sort: FleetSort) => void;
}) {
  if (sort === null) return <th scope="col">{label}</th>;
  const active = query.sort === sort;
  const direction = query.dir === 'asc' ? 'ascending' : 'descending';
  return (
    <th scope="col" aria-sort={active ? direction : undefined}>
      <button type="button" className="sort-button" onClick={() => onSort(sort)}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {active ? (query.dir === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
        </span>
        <span className="visually-hidden">
          {active
            ? `, sorted ${direction}; sort ${query.dir === 'asc' ? 'descending' : 'ascending'}`
            : ', sort ascending'}
        </span>
      </button>
    </th>
  );
}

function CameraRow({ camera, now }: { camera: FleetCamera; now: number }) {
  return (
    <tr data-serial={camera.serial}>
      <th scope="row">
        <Link href={`/cameras/${camera.serial}`} className="mono">
          {camera.serial}
        </Link>
      </th>
      <td>
        {camera.model ?? <span className="muted">unknown</span>}
        {camera.productName ? <span className="muted block">{camera.productName}</span> : null}
      </td>
      <td>{camera.firmware ?? <span className="muted">unknown</span>}</td>
      <td className="mono">{camera.address ?? '—'}</td>
      <td>
        <AccessBadge state={camera.accessState} />
      </td>
      <td>{camera.siteName}</td>
      <td>
        <Time value={camera.lastSeenAt} now={now} />
        {camera.lostAt ? <span className="badge badge-lost">no longer seen</span> : null}
      </td>
    </tr>
  );
}

export function AccessBadge({ state }: { state: string | null }): ReactNode {
  return <span className={`badge access-${state ?? 'unknown'}`}>{accessStateLabel(state)}</span>;
}

function Pager({
  page,
  onNavigate,
}: {
  page: FleetPage;
  onNavigate: (patch: Partial<FleetQuery>) => void;
}) {
  const atFirst = page.page <= 1;
  const atLast = page.page >= page.pageCount;
  // aria-disabled rather than disabled: the button keeps the keyboard focus on the last page.
  return (
    <nav aria-label="Pages" className="pager">
      <button
        type="button"
        aria-disabled={atFirst}
        onClick={() => {
          if (!atFirst) {
            onNavigate({ page: Math.min(page.page - 1, page.pageCount), pageSize: page.pageSize });
          }
        }}
      >
        Previous page
      </button>
      <span>
        Page {page.page} of {page.pageCount}
      </span>
      <button
        type="button"
        aria-disabled={atLast}
        onClick={() => {
          if (!atLast) onNavigate({ page: page.page + 1, pageSize: page.pageSize });
        }}
      >
        Next page
      </button>
      <label htmlFor="fleet-page-size">Cameras per page</label>
      <select
        id="fleet-page-size"
        value={page.pageSize}
        onChange={(event) => onNavigate({ pageSize: Number(event.target.value) })}
      >
        {FLEET_PAGE_SIZES.map((size) => (
          <option key={size} value={size}>
            {size}
          </option>
        ))}
      </select>
    </nav>
  );
}
