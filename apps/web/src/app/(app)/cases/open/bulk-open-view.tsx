'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { ACCESS_STATE_LABELS } from '../../fleet/format.tsx';
import '../cases.css';

const STATES = [
  'login-failed',
  'locked-out',
  'needs-setup',
  'unreachable',
  'authenticated',
] as const;

type Result = RouterOutputs['cases']['openForSite'];

/**
 * Opens a case for each camera of a site that matches a filter, or for serials pasted in. Cameras
 * that already have an open case are listed, not an error: running it twice is safe.
 */
export function BulkOpenView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const params = useSearchParams();
  const sites = useQuery(trpc.sites.list.queryOptions());
  const [mode, setMode] = useState<'filter' | 'serials'>('filter');
  const [result, setResult] = useState<Result | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const open = useMutation(
    trpc.cases.openForSite.mutationOptions({
      onSuccess: async (data) => {
        setResult(data);
        setFieldErrors({});
        await queryClient.invalidateQueries(trpc.cases.pathFilter());
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setResult(null);
    const siteId = formText(form, 'site');
    if (mode === 'serials') {
      const serials = formText(form, 'serials')
        .split(/[\s,;]+/)
        .map((serial) => serial.trim())
        .filter((serial) => serial !== '');
      open.mutate({ siteId, serials });
    } else {
      const accessStates = form
        .getAll('accessState')
        .filter((value): value is (typeof STATES)[number] => typeof value === 'string');
      const q = formText(form, 'q').trim();
      open.mutate({ siteId, filter: { accessStates, ...(q === '' ? {} : { q }) } });
    }
  }

  const formError = open.error && Object.keys(fieldErrors).length === 0 ? open.error.message : null;
  return (
    <>
      <form className="stack" onSubmit={onSubmit} noValidate aria-label="Open cases">
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor="bulk-site">Site</label>
          <select id="bulk-site" name="site" defaultValue={params.get('site') ?? ''} required>
            <option value="" disabled>
              Choose a site
            </option>
            {sites.data?.map((site) => (
              <option key={site.id} value={site.id}>
                {site.name} ({site.ownerName})
              </option>
            ))}
          </select>
        </div>
        <fieldset>
          <legend>Which cameras</legend>
          <label className="inline">
            <input
              type="radio"
              name="mode"
              checked={mode === 'filter'}
              onChange={() => setMode('filter')}
            />{' '}
            Every present camera matching a filter
          </label>
          <label className="inline">
            <input
              type="radio"
              name="mode"
              checked={mode === 'serials'}
              onChange={() => setMode('serials')}
            />{' '}
            These serials
          </label>
        </fieldset>
        {mode === 'filter' ? (
          <fieldset>
            <legend>Access state (none ticked: any)</legend>
            {STATES.map((state) => (
              <label key={state} className="inline">
                <input
                  type="checkbox"
                  name="accessState"
                  value={state}
                  defaultChecked={state === 'login-failed'}
                />{' '}
                {ACCESS_STATE_LABELS[state]}
              </label>
            ))}
            <div className="field">
              <label htmlFor="bulk-q">Serial or model contains</label>
              <input id="bulk-q" name="q" type="search" />
            </div>
          </fieldset>
        ) : (
          <div className="field">
            <label htmlFor="bulk-serials">Serials</label>
            <span id="bulk-serials-hint" className="hint">
              One per line or separated by commas (up to 200).
            </span>
            <textarea
              id="bulk-serials"
              name="serials"
              rows={6}
              aria-describedby="bulk-serials-hint"
              aria-invalid={fieldErrors.serials ? true : undefined}
            />
            {fieldErrors.serials ? (
              <span className="field-error">{fieldErrors.serials.join(' ')}</span>
            ) : null}
          </div>
        )}
        <button type="submit" disabled={open.isPending}>
          {open.isPending ? 'Opening…' : 'Open cases'}
        </button>
      </form>
      {result ? (
        <section aria-labelledby="bulk-result" role="status">
          <h2 id="bulk-result">
            {result.opened.length} case{result.opened.length === 1 ? '' : 's'} opened
          </h2>
          {result.opened.length > 0 ? (
            <ul>
              {result.opened.map((entry) => (
                <li key={entry.caseId}>
                  <Link href={`/cases/${entry.caseId}`}>
                    <span className="mono">{entry.serial}</span>
                  </Link>
                </li>
              ))}
            </ul>
          ) : null}
          {result.skipped.length > 0 ? (
            <>
              <h3>Skipped</h3>
              <ul>
                {result.skipped.map((entry) => (
                  <li key={entry.serial}>
                    <span className="mono">{entry.serial}</span>: {entry.reason}{' '}
                    {entry.caseId ? <Link href={`/cases/${entry.caseId}`}>Its case</Link> : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {result.remaining > 0 ? (
            <p>{result.remaining} more matched; run it again for the next batch.</p>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
