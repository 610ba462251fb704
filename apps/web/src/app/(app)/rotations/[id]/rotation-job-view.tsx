'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, useNow } from '../../fleet/format.tsx';
import { LiveStatus, useThrottled } from '../../fleet/use-fleet-live.tsx';
import {
  ACCOUNT_LABELS,
  ITEM_STATUSES,
  ITEM_STATUS_HINTS,
  ITEM_STATUS_LABELS,
  JOB_STATUS_LABELS,
  countsDone,
  countsTotal,
  waveName,
  type ItemStatus,
} from '../rotation-format.ts';
import { useRotationLive } from '../use-rotation-live.tsx';
import '../rotations.css';

type JobView = RouterOutputs['rotation']['get'];

/** A fallback when the live feed is down; with it, changes arrive within a second. */
const POLL_MS = 5_000;
const ITEMS_PAGE = 50;
const ENDED = new Set(['completed', 'cancelled', 'stopped']);

/** Ended, and no camera of it is being changed or checked any more. */
function isSettled(view: JobView | undefined): boolean {
  if (view === undefined || !ENDED.has(view.job.status)) return false;
  return view.totals.changing + view.totals.checking === 0;
}

export function RotationJobView({ jobId }: { jobId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(10_000);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const query = useQuery(
    trpc.rotation.get.queryOptions(
      { jobId },
      { refetchInterval: (current) => (isSettled(current.state.data) ? false : POLL_MS) },
    ),
  );
  const refetch = useThrottled(() => {
    void queryClient.invalidateQueries(trpc.rotation.get.queryFilter({ jobId }));
    void queryClient.invalidateQueries(trpc.rotation.items.pathFilter());
  }, 500);
  const view = query.data;
  const settled = isSettled(view);
  const live = useRotationLive(jobId, refetch, !settled);
  const loaded = query.isSuccess;
  useEffect(() => {
    if (loaded) headingRef.current?.focus();
  }, [loaded]);

  if (query.isPending) return <p role="status">Loading the rotation…</p>;
  if (query.isError || !view) {
    return (
      <>
        <h1>Rotation</h1>
        <p role="alert" className="form-error">
          {query.error?.data?.code === 'NOT_FOUND'
            ? 'No such rotation job among yours.'
            : `The rotation could not be loaded: ${query.error?.message ?? 'unknown error'}`}
        </p>
        <p>
          <Link href="/rotations">Back to the rotations</Link>
        </p>
      </>
    );
  }
  const { job } = view;
  return (
    <>
      <p>
        <Link href="/rotations">← Rotations</Link>
      </p>
      <h1 ref={headingRef} tabIndex={-1}>
        Rotation of the {(ACCOUNT_LABELS[job.account] ?? job.account).toLowerCase()}:{' '}
        {JOB_STATUS_LABELS[job.status] ?? job.status}
      </h1>
      {settled ? (
        <p role="status">This job has ended: none of its cameras is being changed any more.</p>
      ) : (
        <LiveStatus state={live} />
      )}
      {job.stopReason && job.status !== 'completed' ? (
        <p role="alert" className="rotation-stop">
          {job.status === 'stopped' ? 'Stopped' : JOB_STATUS_LABELS[job.status]}: {job.stopReason}
        </p>
      ) : null}
      <Progress view={view} />
      <Actions view={view} />
      <Items jobId={jobId} view={view} now={now} />
      <SkippedAtStart view={view} />
      <section aria-labelledby="rotation-details-heading">
        <h2 id="rotation-details-heading">Details</h2>
        <dl className="facts">
          <dt>Account</dt>
          <dd>{ACCOUNT_LABELS[job.account] ?? job.account}</dd>
          <dt>Canary size</dt>
          <dd>{job.canarySize}</dd>
          <dt>Wave size</dt>
          <dd>{job.waveSize}</dd>
          <dt>Failures allowed per wave</dt>
          <dd>{job.maxFailures}</dd>
          <dt>Started</dt>
          <dd>
            <Time value={job.createdAt} now={now} />
            {` by ${job.createdBy.name}`}
          </dd>
          <dt>Finished</dt>
          <dd>
            <Time value={job.finishedAt} now={now} />
          </dd>
        </dl>
      </section>
    </>
  );
}

function Progress({ view }: { view: JobView }) {
  const total = countsTotal(view.totals);
  const done = countsDone(view.totals);
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
  return (
    <section aria-labelledby="rotation-progress-heading">
      <h2 id="rotation-progress-heading">Progress</h2>
      <div className="rotation-progress">
        <label htmlFor="rotation-progress-bar">Cameras done</label>
        <progress
          id="rotation-progress-bar"
          max={Math.max(total, 1)}
          value={total === 0 ? 1 : done}
        >
          {percent}%
        </progress>
        <span>
          {done} of {total} ({percent}%)
        </span>
      </div>
      <table className="rotation-counts">
        <caption>Cameras per status</caption>
        <thead>
          <tr>
            {ITEM_STATUSES.map((status) => (
              <th key={status} scope="col" title={ITEM_STATUS_HINTS[status]}>
                {ITEM_STATUS_LABELS[status]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {ITEM_STATUSES.map((status) => (
              <td key={status} className={`rotation-count-${status}`}>
                {view.totals[status] ?? 0}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      <table className="rotation-waves">
        <caption>Waves (the canary first)</caption>
        <thead>
          <tr>
            <th scope="col">Wave</th>
            <th scope="col">Cameras</th>
            {ITEM_STATUSES.map((status) => (
              <th key={status} scope="col">
                {ITEM_STATUS_LABELS[status]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {view.waves.map((wave) => {
            const current = wave.wave === view.job.currentWave && !ENDED.has(view.job.status);
            return (
              <tr key={wave.wave} aria-current={current ? 'step' : undefined}>
                <th scope="row">
                  {waveName(wave.wave)}
                  {current ? <span className="muted"> (under way)</span> : null}
                </th>
                <td>{wave.total}</td>
                {ITEM_STATUSES.map((status) => (
                  <td key={status}>{wave.byStatus[status] ?? 0}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

type Action = 'pause' | 'resume' | 'cancel' | 'retryFailures';

const DONE_TEXT: Record<Action, string> = {
  pause: 'Paused: no further camera starts; changes under way finish.',
  resume: 'Resumed.',
  cancel: 'Cancelled: queued cameras are skipped; changes under way finish and are checked.',
  retryFailures: 'The failed cameras are queued again, as a new wave.',
};

function Actions({ view }: { view: JobView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const jobId = view.job.id;
  const [done, setDone] = useState<Action | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const handlers = (action: Action) => ({
    onSuccess: async () => {
      setDone(action);
      setConfirmCancel(false);
      await queryClient.invalidateQueries(trpc.rotation.pathFilter());
    },
    onError: () => setDone(null),
  });
  const pause = useMutation(trpc.rotation.pause.mutationOptions(handlers('pause')));
  const resume = useMutation(trpc.rotation.resume.mutationOptions(handlers('resume')));
  const cancel = useMutation(trpc.rotation.cancel.mutationOptions(handlers('cancel')));
  const retry = useMutation(trpc.rotation.retryFailures.mutationOptions(handlers('retryFailures')));
  const busy = pause.isPending || resume.isPending || cancel.isPending || retry.isPending;
  const error = [pause, resume, cancel, retry].find((mutation) => mutation.isError)?.error;
  // The server says what this user may do to the job now (role, organisation, status).
  const { pause: canPause, resume: canResume, cancel: canCancel } = view.can;
  const canRetry = view.can.retryFailures;
  if (!canPause && !canResume && !canCancel && !canRetry) return null;
  return (
    <section aria-labelledby="rotation-actions-heading">
      <h2 id="rotation-actions-heading">Actions</h2>
      <div className="rotation-actions">
        {canPause ? (
          <button type="button" disabled={busy} onClick={() => pause.mutate({ jobId })}>
            Pause
          </button>
        ) : null}
        {canResume ? (
          <button type="button" disabled={busy} onClick={() => resume.mutate({ jobId })}>
            Resume
          </button>
        ) : null}
        {canRetry ? (
          <button type="button" disabled={busy} onClick={() => retry.mutate({ jobId })}>
            Retry failures ({view.totals.failed})
          </button>
        ) : null}
        {canCancel && !confirmCancel ? (
          <button type="button" disabled={busy} onClick={() => setConfirmCancel(true)}>
            Cancel the job
          </button>
        ) : null}
      </div>
      {canCancel && confirmCancel ? (
        <div role="group" aria-labelledby="rotation-cancel-question" className="rotation-confirm">
          <p id="rotation-cancel-question">
            Cancel this rotation? Queued cameras are skipped and keep their current password;
            changes already under way finish and are checked.
          </p>
          <button type="button" disabled={busy} onClick={() => cancel.mutate({ jobId })}>
            Yes, cancel the job
          </button>{' '}
          <button type="button" disabled={busy} onClick={() => setConfirmCancel(false)}>
            Keep it
          </button>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="form-error">
          {error.message}
        </p>
      ) : done ? (
        <p role="status">{DONE_TEXT[done]}</p>
      ) : null}
    </section>
  );
}

function SkippedAtStart({ view }: { view: JobView }) {
  if (view.skippedCount === 0) return null;
  return (
    <section aria-labelledby="rotation-skipped-heading">
      <h2 id="rotation-skipped-heading">Left out at the start ({view.skippedCount})</h2>
      <p className="muted">
        Cameras of the selection this rotation did not take, and why; they keep their password.
      </p>
      <table>
        <caption className="visually-hidden">Cameras left out at the start, and why</caption>
        <thead>
          <tr>
            <th scope="col">Camera</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {view.skipped.map((skip) => (
            <tr key={skip.serial}>
              <th scope="row">
                <Link href={`/cameras/${skip.serial}`}>
                  <span className="mono">{skip.serial}</span>
                </Link>
              </th>
              <td>{skip.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.skipped.length < view.skippedCount ? (
        <p className="muted">
          The first {view.skipped.length} of {view.skippedCount} are listed.
        </p>
      ) : null}
    </section>
  );
}

function Items({ jobId, view, now }: { jobId: string; view: JobView; now: number }) {
  const trpc = useTRPC();
  const [status, setStatus] = useState<ItemStatus | ''>('');
  const items = useInfiniteQuery(
    trpc.rotation.items.infiniteQueryOptions(
      { jobId, status: status === '' ? undefined : status, limit: ITEMS_PAGE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const rows = items.data?.pages.flatMap((page) => page.items) ?? [];
  const total = countsTotal(view.totals);
  return (
    <section aria-labelledby="rotation-items-heading">
      <h2 id="rotation-items-heading">Cameras</h2>
      <div className="field rotation-filter">
        <label htmlFor="rotation-item-status">Show</label>
        <select
          id="rotation-item-status"
          value={status}
          onChange={(event) => setStatus(event.target.value as ItemStatus | '')}
        >
          <option value="">All cameras ({total})</option>
          {ITEM_STATUSES.map((entry) => (
            <option key={entry} value={entry}>
              {ITEM_STATUS_LABELS[entry]} ({view.totals[entry] ?? 0})
            </option>
          ))}
        </select>
      </div>
      {items.isPending ? (
        <p role="status">Loading the cameras…</p>
      ) : items.isError ? (
        <p role="alert" className="form-error">
          The cameras could not be loaded: {items.error.message}
        </p>
      ) : rows.length === 0 ? (
        <p>
          No camera{' '}
          {status === '' ? 'in this job' : `is ${ITEM_STATUS_LABELS[status].toLowerCase()}`}.
        </p>
      ) : (
        <table>
          <caption className="visually-hidden">
            Cameras of this rotation{status === '' ? '' : `: ${ITEM_STATUS_LABELS[status]}`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Camera</th>
              <th scope="col">Site</th>
              <th scope="col">Wave</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Error or reason</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((item) => (
              <tr key={item.serial}>
                <th scope="row">
                  <Link href={`/cameras/${item.serial}`}>
                    <span className="mono">{item.serial}</span>
                  </Link>
                  {item.model ? ` ${item.model}` : ''}
                </th>
                <td>{item.siteName}</td>
                <td>{waveName(item.wave)}</td>
                <td className={`rotation-status-${item.status}`}>
                  {ITEM_STATUS_LABELS[item.status]}
                </td>
                <td>{item.attempts}</td>
                <td>
                  {item.waitingForAgent === null ? (
                    (item.error?.message ?? '—')
                  ) : (
                    <>
                      {item.waitingForAgent.name === null
                        ? 'Waiting for a site agent to serve this camera'
                        : `Waiting for the site agent ${item.waitingForAgent.name}, not connected`}
                      {item.waitingForAgent.since === null ? (
                        ''
                      ) : (
                        <>
                          {' '}
                          since <Time value={item.waitingForAgent.since} now={now} />
                        </>
                      )}
                      .{item.error === null ? '' : ` ${item.error.message}`}
                    </>
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
      {items.hasNextPage ? (
        <button
          type="button"
          disabled={items.isFetchingNextPage}
          onClick={() => void items.fetchNextPage()}
        >
          {items.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </section>
  );
}
