'use client';

import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useRef, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, formatAbsolute, useNow } from '../fleet/format.tsx';
import './audit.css';

type AuditPage = RouterOutputs['audit']['list'];
type AuditEvent = AuditPage['events'][number];
type ChainReport = RouterOutputs['audit']['verify'];

const READER_ROLES = new Set(['integrator-admin', 'owner-approver', 'auditor']);

/** Offered in the action filter; any other dotted action can be typed. */
const KNOWN_ACTIONS = [
  'auth.signed-in',
  'auth.sign-in-failed',
  'auth.signed-out',
  'auth.password-changed',
  'grant.created',
  'grant.revoked',
  'site.created',
  'site.updated',
  'organisation.created',
  'invitation.created',
  'invitation.accepted',
  'invitation.revoked',
  'enrollment-token.created',
  'enrollment-token.used',
  'agent.revoked',
];

interface AuditFilter {
  action?: string | undefined;
  subject?: { kind: string; id: string } | undefined;
  beforeSeq?: number | undefined;
}

function filterFromParams(params: URLSearchParams): AuditFilter {
  const action = params.get('action')?.trim() || undefined;
  const kind = params.get('subjectKind')?.trim();
  const id = params.get('subjectId')?.trim();
  const before = Number(params.get('before'));
  return {
    action,
    subject: kind && id ? { kind, id } : undefined,
    beforeSeq: Number.isInteger(before) && before > 0 ? before : undefined,
  };
}

function paramsOf(filter: AuditFilter): string {
  const params = new URLSearchParams();
  if (filter.action) params.set('action', filter.action);
  if (filter.subject) {
    params.set('subjectKind', filter.subject.kind);
    params.set('subjectId', filter.subject.id);
  }
  if (filter.beforeSeq !== undefined) params.set('before', String(filter.beforeSeq));
  return params.toString();
}

/** The audit log, newest first; the URL holds the filter and the page, so a view can be shared. */
export function AuditView() {
  const trpc = useTRPC();
  const params = useSearchParams();
  const pathname = usePathname();
  const router = useRouter();
  const now = useNow();
  const filter = filterFromParams(new URLSearchParams(params.toString()));
  const me = useQuery(trpc.me.get.queryOptions());
  const page = useQuery({
    ...trpc.audit.list.queryOptions(filter),
    placeholderData: keepPreviousData,
  });
  const mayVerify = (me.data?.memberships ?? []).some((m) => READER_ROLES.has(m.role));

  function navigate(next: AuditFilter) {
    const search = paramsOf(next);
    router.push(search === '' ? pathname : `${pathname}?${search}`, { scroll: false });
  }

  return (
    <div className="wide-page">
      {mayVerify ? <VerifyChain /> : null}
      <Filters filter={filter} onChange={(next) => navigate({ ...next, beforeSeq: undefined })} />
      <section aria-labelledby="events-heading">
        <h2 id="events-heading">Events</h2>
        {me.data && !mayVerify ? (
          <p className="muted">You see the events you took part in.</p>
        ) : null}
        {page.isPending ? (
          <p role="status">Loading events…</p>
        ) : page.isError ? (
          <p role="alert" className="form-error">
            The audit log could not be loaded: {page.error.message}
          </p>
        ) : page.data.events.length === 0 ? (
          <p>No event {filter.action || filter.subject ? 'matches this filter' : 'yet'}.</p>
        ) : (
          <>
            <EventsTable events={page.data.events} now={now} busy={page.isPlaceholderData} />
            <nav aria-label="Pages" className="pager">
              <button
                type="button"
                aria-disabled={filter.beforeSeq === undefined}
                onClick={() => {
                  if (filter.beforeSeq !== undefined) navigate({ ...filter, beforeSeq: undefined });
                }}
              >
                Newest events
              </button>
              <button
                type="button"
                aria-disabled={page.data.nextBeforeSeq === null}
                onClick={() => {
                  const next = page.data.nextBeforeSeq;
                  if (next !== null) navigate({ ...filter, beforeSeq: next });
                }}
              >
                Older events
              </button>
            </nav>
          </>
        )}
      </section>
    </div>
  );
}

function Filters({
  filter,
  onChange,
}: {
  filter: AuditFilter;
  onChange: (filter: AuditFilter) => void;
}) {
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const kind = formText(form, 'subjectKind').trim();
    const id = formText(form, 'subjectId').trim();
    onChange({
      action: formText(form, 'action').trim() || undefined,
      subject: kind && id ? { kind, id } : undefined,
    });
  }
  // Keyed by the filter so the fields show it again after back and forward.
  const key = paramsOf({ ...filter, beforeSeq: undefined });
  return (
    <form
      key={key}
      role="search"
      aria-label="Filter events"
      className="filters"
      onSubmit={onSubmit}
    >
      <div className="field">
        <label htmlFor="audit-action">Action</label>
        <input
          id="audit-action"
          name="action"
          list="audit-actions"
          defaultValue={filter.action ?? ''}
          placeholder="grant.revoked"
          aria-describedby="audit-action-hint"
        />
        <span id="audit-action-hint" className="hint">
          A dotted action, exactly.
        </span>
        <datalist id="audit-actions">
          {KNOWN_ACTIONS.map((action) => (
            <option key={action} value={action} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="audit-subject-kind">Subject kind</label>
        <input
          id="audit-subject-kind"
          name="subjectKind"
          defaultValue={filter.subject?.kind ?? ''}
          placeholder="site"
        />
      </div>
      <div className="field">
        <label htmlFor="audit-subject-id">Subject id</label>
        <input
          id="audit-subject-id"
          name="subjectId"
          className="mono"
          defaultValue={filter.subject?.id ?? ''}
        />
      </div>
      <button type="submit">Filter</button>
      {filter.action || filter.subject ? (
        <button type="button" className="link-button" onClick={() => onChange({})}>
          Clear filter
        </button>
      ) : null}
    </form>
  );
}

function describeActor(actor: AuditEvent['actor']): string {
  if (actor.kind === 'user') return actor.name ?? `user ${actor.id}`;
  if (actor.kind === 'agent') return `agent ${actor.id}`;
  return `Custody (${actor.id})`;
}

function describeData(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

function EventsTable({ events, now, busy }: { events: AuditEvent[]; now: number; busy: boolean }) {
  return (
    <div className="table-scroll">
      <table aria-busy={busy}>
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">By</th>
            <th scope="col">Subject</th>
            <th scope="col">Organisation</th>
            <th scope="col">Site</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.seq}>
              <td className="mono" title={`Hash ${event.hash}`}>
                {event.seq}
              </td>
              <td>
                <Time value={event.at} now={now} />
              </td>
              <th scope="row" className="mono">
                {event.action}
              </th>
              <td>{describeActor(event.actor)}</td>
              <td>
                {event.subject.kind} <span className="mono muted">{event.subject.id}</span>
              </td>
              <td>{event.org?.name ?? '—'}</td>
              <td>{event.site?.name ?? '—'}</td>
              <td>{describeData(event.data) || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function VerifyChain() {
  const trpc = useTRPC();
  const resultRef = useRef<HTMLDivElement>(null);
  const verify = useMutation(
    trpc.audit.verify.mutationOptions({
      onSettled: () => requestAnimationFrame(() => resultRef.current?.focus()),
    }),
  );
  return (
    <section aria-labelledby="verify-heading">
      <h2 id="verify-heading">Integrity</h2>
      <p>
        Verifying recomputes the hash of every event of the installation&apos;s log, in order, and
        stops at the first one that does not hold.
      </p>
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
        {verify.isPending ? 'Verifying the chain…' : 'Verify chain'}
      </button>
      <div ref={resultRef} tabIndex={-1} className="verify-result">
        {verify.isError ? (
          <p role="alert" className="form-error">
            The chain could not be verified: {verify.error.message}
          </p>
        ) : verify.data ? (
          <ChainResult report={verify.data} />
        ) : null}
      </div>
    </section>
  );
}

function ChainResult({ report }: { report: ChainReport }) {
  const checked = formatAbsolute(new Date(report.checkedAt));
  if (report.ok) {
    return (
      <p role="status" className="status-ok">
        Chain intact: {report.length} event{report.length === 1 ? '' : 's'}, head hash{' '}
        <code className="mono break">{report.headHash}</code> (checked {checked}).
      </p>
    );
  }
  return (
    <div role="alert" className="status-bad">
      <p>
        <strong>The chain is broken at event #{report.brokenSeq}</strong> ({report.code}):{' '}
        {report.reason}
      </p>
      <p>
        The {report.length} event{report.length === 1 ? '' : 's'} before it verify. Events from #
        {report.brokenSeq} on cannot be trusted until the database is restored or the change is
        explained (checked {checked}).
      </p>
    </div>
  );
}
