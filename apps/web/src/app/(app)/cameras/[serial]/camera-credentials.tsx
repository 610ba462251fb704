'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, useNow } from '../../fleet/format.tsx';

type Version = RouterOutputs['vault']['versions'][number];

const ACCOUNT_LABELS: Record<string, string> = {
  admin: 'Administrator account',
  service: 'Custody service account',
  vms: 'VMS account',
};

const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending: not yet confirmed on the camera',
  active: 'Active',
  retired: 'Retired',
};

/** As the server checks it (REVEAL_REASON_MIN_LENGTH / MAX_LENGTH in credential-access.ts). */
const REASON_MIN_LENGTH = 10;
const REASON_MAX_LENGTH = 500;

/**
 * The camera's kept credential versions (metadata only), and for an integrator admin a way to
 * see an active password once, with a reason: the server audits and rate-limits each reveal.
 */
export function CameraCredentials({ serial }: { serial: string }) {
  const trpc = useTRPC();
  const now = useNow();
  const versions = useQuery(trpc.vault.versions.queryOptions({ serial }));
  const me = useQuery(trpc.me.get.queryOptions());
  const mayReveal = (me.data?.memberships ?? []).some((m) => m.role === 'integrator-admin');

  const accounts = new Map<string, Version[]>();
  for (const version of versions.data ?? []) {
    const list = accounts.get(version.account) ?? [];
    list.push(version);
    accounts.set(version.account, list);
  }

  return (
    <section aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">Credentials</h2>
      <p className="muted">
        The passwords Custody keeps for this camera are sealed in the vault; this list shows only
        their versions.
        {mayReveal
          ? ' As an integrator admin you can reveal an active one with a reason; each reveal is audited and limited to 5 in 10 minutes.'
          : ' Only an integrator admin can reveal a password.'}
      </p>
      {versions.isPending ? (
        <p role="status">Loading credentials…</p>
      ) : versions.isError ? (
        <p role="alert" className="form-error">
          The credentials could not be loaded: {versions.error.message}
        </p>
      ) : accounts.size === 0 ? (
        <p>No credential is kept for this camera yet.</p>
      ) : (
        [...accounts].map(([account, list]) => {
          const headingId = `credentials-${account}-heading`;
          const label = ACCOUNT_LABELS[account] ?? account;
          return (
            <div key={account} role="group" aria-labelledby={headingId}>
              <h3 id={headingId}>{label}</h3>
              <table>
                <caption className="visually-hidden">Versions of the {label.toLowerCase()}</caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">User name</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((version) => (
                    <tr key={version.id}>
                      <th scope="row">{version.version}</th>
                      <td className="mono">{version.username}</td>
                      <td>{STATUS_LABELS[version.status] ?? version.status}</td>
                      <td>
                        <Time value={version.createdAt} now={now} />
                        {version.createdByName ? ` by ${version.createdByName}` : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {mayReveal
                ? list
                    .filter((version) => version.status === 'active')
                    .map((version) => (
                      <RevealCredential key={version.id} version={version} label={label} />
                    ))
                : null}
            </div>
          );
        })
      )}
    </section>
  );
}

function RevealCredential({ version, label }: { version: Version; label: string }) {
  const trpc = useTRPC();
  const id = useId();
  const summaryRef = useRef<HTMLElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  // The password lives only here: cleared on Hide and gone on unmount. Never logged.
  const [password, setPassword] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const mutation = useMutation(
    trpc.vault.reveal.mutationOptions({
      // Keep no copy of the answer in the mutation cache once nothing observes it.
      gcTime: 0,
      onSuccess: (revealed) => {
        setFieldErrors({});
        setCopied(null);
        setPassword(revealed.password);
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );
  const { reset } = mutation;

  // Drop the answer from the mutation as soon as it is in state, and on unmount.
  const revealed = password !== null;
  useEffect(() => {
    if (revealed) {
      reset();
      passwordRef.current?.focus();
    }
  }, [revealed, reset]);
  useEffect(() => () => reset(), [reset]);

  const error = mutation.error as { message?: unknown } | null;
  const reasonErrors = fieldErrors.reason;
  const formError =
    error && !reasonErrors?.length && typeof error.message === 'string' ? error.message : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({ credentialId: version.id, reason: formText(form, 'reason') });
  }

  function hide() {
    setPassword(null);
    setCopied(null);
    reset();
    summaryRef.current?.focus();
  }

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Password copied.');
    } catch {
      setCopied('Could not copy; select the password and copy it yourself.');
    }
  }

  const reasonId = `${id}-reason`;
  const hintId = `${id}-reason-hint`;
  const errorId = `${id}-reason-error`;
  const passwordId = `${id}-password`;
  return (
    <details
      onToggle={(event) => {
        // Closing the disclosure hides the password as well.
        if (!event.currentTarget.open && password !== null) hide();
      }}
    >
      <summary ref={summaryRef}>
        Reveal the {label.toLowerCase()} password (version {version.version})
      </summary>
      {password !== null ? (
        <div className="stack">
          <div className="field">
            <label htmlFor={passwordId}>
              Password of <span className="mono">{version.username}</span>
            </label>
            <span className="search-row">
              <input
                ref={passwordRef}
                id={passwordId}
                readOnly
                value={password}
                className="mono"
                autoComplete="off"
                spellCheck={false}
                onFocus={(event) => event.currentTarget.select()}
              />
              <button type="button" onClick={() => void copy(password)}>
                Copy
              </button>
              <button type="button" onClick={hide}>
                Hide
              </button>
            </span>
          </div>
          <p role="status">
            {copied ?? 'Shown once: after you hide it, revealing it again takes a new reason.'}
          </p>
        </div>
      ) : (
        <form className="stack" onSubmit={onSubmit} noValidate>
          {formError ? (
            <p role="alert" className="form-error">
              {formError}
            </p>
          ) : null}
          <div className="field">
            <label htmlFor={reasonId}>Reason</label>
            <span id={hintId} className="hint">
              Why you need this password, kept in the audit log ({REASON_MIN_LENGTH} to{' '}
              {REASON_MAX_LENGTH} characters).
            </span>
            <input
              id={reasonId}
              name="reason"
              required
              minLength={REASON_MIN_LENGTH}
              maxLength={REASON_MAX_LENGTH}
              autoComplete="off"
              aria-invalid={reasonErrors?.length ? true : undefined}
              aria-describedby={reasonErrors?.length ? `${hintId} ${errorId}` : hintId}
            />
            {reasonErrors?.length ? (
              <span id={errorId} className="field-error">
                {reasonErrors.join(' ')}
              </span>
            ) : null}
          </div>
          <button type="submit" disabled={mutation.isPending}>
            {mutation.isPending ? 'Revealing…' : 'Reveal password'}
          </button>
        </form>
      )}
    </details>
  );
}
