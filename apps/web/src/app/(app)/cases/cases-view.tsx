'use client';

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import type { FormEvent } from 'react';
import type { RouterInputs } from '~/server/api/root.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, useNow } from '../fleet/format.tsx';
import { PATH_LABELS, actorsText } from './case-format.ts';
import './cases.css';

const STATUS_CHOICES: { value: string; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'closed', label: 'Closed (documented, denied, cancelled)' },
  { value: '', label: 'All' },
  { value: 'opened', label: 'Opened' },
  { value: 'triaged', label: 'Triaged' },
  { value: 'awaiting-ownership', label: 'Waiting for ownership' },
  { value: 'awaiting-approval', label: 'Waiting for approval' },
  { value: 'approved', label: 'Approved' },
  { value: 'resetting', label: 'Resetting' },
  { value: 'awaiting-device', label: 'Waiting for the camera' },
  { value: 'provisioning', label: 'Provisioning' },
  { value: 'verifying', label: 'Verifying' },
  { value: 'verified', label: 'Verified' },
  { value: 'wont-reset', label: 'Won’t reset' },
  { value: 'failed', label: 'Failed' },
];

type ListStatus = NonNullable<RouterInputs['cases']['list']['status']>;

export function CasesView() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const now = useNow();
  const siteId = params.get('site') ?? undefined;
  const status = params.get('status') ?? 'open';
  const q = params.get('q') ?? undefined;
  const sites = useQuery(trpc.sites.list.queryOptions());
  const input = {
    siteId,
    status: status === '' ? undefined : (status as ListStatus),
    q,
    limit: 50,
  };
  const cases = useInfiniteQuery(
    trpc.cases.list.infiniteQueryOptions(input, {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
      refetchInterval: 5_000,
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const key of ['site', 'status', 'q']) {
      const value = form.get(key);
      if (typeof value === 'string' && (value !== '' || key === 'status')) next.set(key, value);
    }
    router.replace(`${pathname}?${next.toString()}`);
  }

  const items = cases.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <form className="case-filters" onSubmit={onSubmit} aria-label="Filter cases">
        <div className="field">
          <label htmlFor="filter-site">Site</label>
          <select id="filter-site" name="site" defaultValue={siteId ?? ''}>
            <option value="">All sites</option>
            {sites.data?.map((site) => (
              <option key={site.id} value={site.id}>
                {site.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">State</label>
          <select id="filter-status" name="status" defaultValue={status}>
            {STATUS_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-q">Serial or model</label>
          <input id="filter-q" name="q" type="search" defaultValue={q ?? ''} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <p>
        <Link href={siteId ? `/cases/open?site=${siteId}` : '/cases/open'}>
          Open cases for a site in bulk
        </Link>{' '}
        · open one for a single camera from its page in the <Link href="/fleet">fleet</Link>.
      </p>
      {cases.isPending ? (
        <p role="status">Loading cases…</p>
      ) : cases.isError ? (
        <p role="alert" className="form-error">
          The cases could not be loaded: {cases.error.message}
        </p>
      ) : items.length === 0 ? (
        <p>No cases match.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Cases, most recently changed first</caption>
          <thead>
            <tr>
              <th scope="col">Camera</th>
              <th scope="col">Site</th>
              <th scope="col">State</th>
              <th scope="col">Next, and who acts</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id}>
                <td>
                  <Link href={`/cases/${item.id}`}>
                    <span className="mono">{item.serial}</span>
                  </Link>
                  {item.model ? ` ${item.model}` : ''}
                </td>
                <td>{item.siteName}</td>
                <td>
                  {item.status}
                  {item.path ? ` · ${PATH_LABELS[item.path] ?? item.path}` : ''}
                </td>
                <td>
                  {item.next ? (
                    <>
                      {item.next.action.replace(/-/g, ' ')}{' '}
                      <span className="muted">({actorsText(item.next.actors)})</span>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <Time value={item.updatedAt} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cases.hasNextPage ? (
        <button
          type="button"
          disabled={cases.isFetchingNextPage}
          onClick={() => void cases.fetchNextPage()}
        >
          {cases.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </>
  );
}
