'use client';

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { RouterOutputs } from '~/server/api/root.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, formatAbsolute, useNow } from '../fleet/format.tsx';
import { NewRotationForm } from './new-rotation-form.tsx';
import {
  ACCOUNT_LABELS,
  JOB_STATUS_LABELS,
  countsDone,
  rotationOrgsOf,
} from './rotation-format.ts';
import './rotations.css';

type JobRow = RouterOutputs['rotation']['list']['jobs'][number];

/** The job list refreshes this often while the page is open. */
const LIST_REFRESH_MS = 5_000;

export function RotationsView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const orgs = rotationOrgsOf(me.data?.memberships ?? []);
  return (
    <>
      {me.isPending ? null : orgs.length > 0 ? (
        <NewRotationForm orgs={orgs} />
      ) : (
        <p>
          Only an integrator admin (or an owner&rsquo;s approver, on the owner&rsquo;s sites) can
          start or steer a rotation; you can follow your organisation&rsquo;s rotations here.
        </p>
      )}
      <JobList />
    </>
  );
}

function JobList() {
  const trpc = useTRPC();
  const now = useNow();
  const jobs = useInfiniteQuery(
    trpc.rotation.list.infiniteQueryOptions(
      { limit: 20 },
      {
        getNextPageParam: (page) => page.nextCursor ?? undefined,
        refetchInterval: LIST_REFRESH_MS,
      },
    ),
  );
  const rows: JobRow[] = jobs.data?.pages.flatMap((page) => page.jobs) ?? [];
  return (
    <section aria-labelledby="rotation-jobs-heading">
      <h2 id="rotation-jobs-heading">Rotation jobs</h2>
      {jobs.isPending ? (
        <p role="status">Loading rotation jobs…</p>
      ) : jobs.isError ? (
        <p role="alert" className="form-error">
          The rotation jobs could not be loaded: {jobs.error.message}
        </p>
      ) : rows.length === 0 ? (
        <p>No rotation yet.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Rotation jobs, the most recent first</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Started by</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((job) => {
              const total = job.cameras;
              return (
                <tr key={job.id}>
                  <th scope="row">
                    <Link href={`/rotations/${job.id}`}>{formatAbsolute(job.createdAt)}</Link>
                    <span className="muted">
                      {' '}
                      (<Time value={job.createdAt} now={now} />)
                    </span>
                  </th>
                  <td>{ACCOUNT_LABELS[job.account] ?? job.account}</td>
                  <td>
                    {JOB_STATUS_LABELS[job.status] ?? job.status}
                    {job.stopReason && job.status !== 'completed' ? (
                      <span className="muted"> ({job.stopReason})</span>
                    ) : null}
                  </td>
                  <td>
                    {countsDone(job.totals)} of {total} done · {job.totals.rotated ?? 0} rotated
                    {(job.totals.failed ?? 0) > 0 ? `, ${job.totals.failed} failed` : ''}
                  </td>
                  <td>{job.createdBy.name}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {jobs.hasNextPage ? (
        <button
          type="button"
          disabled={jobs.isFetchingNextPage}
          onClick={() => void jobs.fetchNextPage()}
        >
          {jobs.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </section>
  );
}
