'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRef, useState, type FormEvent } from 'react';
import type { RouterInputs } from '~/server/api/root.ts';
import { APPROVABLE_ACTION_LABELS, labelOf } from '~/server/services/approvals/approval-labels.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { ApprovalRequestCard } from '../../../approvals/approval-request-card.tsx';

type Verb = RouterInputs['approvals']['request']['verb'];

const VERB_HINTS: Record<Verb, string> = {
  'factory-default-soft':
    'Through the agent, with an administrator credential that works. Keeps the network settings.',
  'factory-default-hard':
    'Through the agent, with an administrator credential that works. Resets everything, the IP address included.',
  'guided-button-reset':
    'No credential works: a technician on site holds the control button while the agent watches for the camera to come back.',
};

/** The case's approval requests and, for the integrator's people, the form to ask for one. */
export function CaseApprovalView({ caseId, canRequest }: { caseId: string; canRequest: boolean }) {
  const trpc = useTRPC();
  const caseView = useQuery(trpc.cases.get.queryOptions({ caseId }));
  const requests = useQuery(
    trpc.approvals.forCase.queryOptions({ caseId }, { refetchInterval: 15_000 }),
  );

  if (caseView.isPending || requests.isPending) {
    return <p role="status">Loading the case’s approvals…</p>;
  }
  if (caseView.isError || requests.isError) {
    const error = caseView.error ?? requests.error;
    return (
      <p role="alert" className="form-error">
        {error?.data?.code === 'NOT_FOUND'
          ? 'No such case at your sites.'
          : `The approvals could not be loaded: ${error?.message ?? 'unknown error'}`}
      </p>
    );
  }
  const view = caseView.data;
  const pending = requests.data.find((request) => request.status === 'pending');
  return (
    <>
      <p>
        <Link href={`/cases/${caseId}`}>← Case for camera {view.serial}</Link>
      </p>
      <h1>
        Owner approval for <span className="mono">{view.serial}</span>
      </h1>
      <p>
        Case step: <strong>{view.statusLabel}</strong>. Approvers of the site’s owner decide; an
        approval is bound to this camera, the action, the site and the agent, runs once and expires.
      </p>
      {canRequest && view.status === 'awaiting-approval' ? (
        <RequestApprovalForm
          caseId={caseId}
          serial={view.serial}
          replaces={pending?.id ?? null}
          // Without a working admin credential only the button reset is possible.
          suggested={view.triage?.workingAdmin ? 'factory-default-soft' : 'guided-button-reset'}
        />
      ) : null}
      <section aria-labelledby="requests-heading">
        <h2 id="requests-heading">Requests</h2>
        {requests.data.length === 0 ? (
          <p>No approval has been requested for this case.</p>
        ) : (
          requests.data.map((request) => (
            <div key={request.id}>
              <ApprovalRequestCard request={request} headingLevel={3} />
              {canRequest && request.status === 'pending' ? (
                <WithdrawForm requestId={request.id} />
              ) : null}
            </div>
          ))
        )}
      </section>
    </>
  );
}

function RequestApprovalForm({
  caseId,
  serial,
  replaces,
  suggested,
}: {
  caseId: string;
  serial: string;
  replaces: string | null;
  suggested: Verb;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [sent, setSent] = useState<string | null>(null);
  const request = useMutation(
    trpc.approvals.request.mutationOptions({
      onSuccess: async (created) => {
        formRef.current?.reset();
        setSent(
          `Sent to the approvers of the owner: ${labelOf(APPROVABLE_ACTION_LABELS, created.verb)}, ${created.quorum} approval${created.quorum === 1 ? '' : 's'} needed.`,
        );
        await queryClient.invalidateQueries(trpc.approvals.pathFilter());
        await queryClient.invalidateQueries(trpc.cases.pathFilter());
      },
      onError: (error) => {
        const errors = fieldErrorsFrom(error);
        setFieldErrors(errors);
        if (errors.reason) formRef.current?.querySelector<HTMLElement>('textarea')?.focus();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFieldErrors({});
    setSent(null);
    request.mutate({
      caseId,
      verb: formText(form, 'verb') as Verb,
      reason: formText(form, 'reason'),
    });
  }

  const ownershipMissing =
    (request.error?.data as { domainCode?: string } | undefined)?.domainCode === 'conflict' &&
    /ownership/i.test(request.error?.message ?? '');
  const formError =
    request.error && Object.keys(fieldErrors).length === 0 ? request.error.message : null;
  return (
    <section aria-labelledby="request-heading">
      <h2 id="request-heading">Ask the owner</h2>
      {replaces ? <p className="muted">A new request withdraws the one still waiting.</p> : null}
      <form ref={formRef} className="stack" onSubmit={onSubmit} noValidate>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}{' '}
            {ownershipMissing ? (
              <Link href={`/cameras/${serial}/ownership`}>Record the ownership</Link>
            ) : null}
          </p>
        ) : null}
        <fieldset>
          <legend>Action</legend>
          {(Object.keys(VERB_HINTS) as Verb[]).map((verb) => (
            <div key={verb}>
              <input
                type="radio"
                id={`verb-${verb}`}
                name="verb"
                value={verb}
                defaultChecked={verb === suggested}
                aria-describedby={`verb-${verb}-hint`}
              />{' '}
              <label htmlFor={`verb-${verb}`}>{labelOf(APPROVABLE_ACTION_LABELS, verb)}</label>
              <div id={`verb-${verb}-hint`} className="hint">
                {VERB_HINTS[verb]}
              </div>
            </div>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="field-reason">Reason</label>
          <span id="field-reason-hint" className="hint">
            What the owner needs to know: why a reset, and why this one.
          </span>
          <textarea
            id="field-reason"
            name="reason"
            rows={3}
            aria-invalid={fieldErrors.reason ? true : undefined}
            aria-describedby={`field-reason-hint${fieldErrors.reason ? ' field-reason-error' : ''}`}
          />
          {fieldErrors.reason ? (
            <span id="field-reason-error" className="field-error">
              {fieldErrors.reason.join(' ')}
            </span>
          ) : null}
        </div>
        <button type="submit" disabled={request.isPending}>
          {request.isPending ? 'Sending…' : 'Request approval'}
        </button>
        <p role="status" className="status-ok">
          {sent}
        </p>
      </form>
    </section>
  );
}

function WithdrawForm({ requestId }: { requestId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const withdraw = useMutation(
    trpc.approvals.withdraw.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await queryClient.invalidateQueries(trpc.approvals.pathFilter());
      },
    }),
  );
  if (!open) {
    return (
      <p>
        <button type="button" className="link-button" onClick={() => setOpen(true)}>
          Withdraw this request…
        </button>
      </p>
    );
  }
  const reasonId = `withdraw-${requestId}`;
  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        withdraw.mutate({
          requestId,
          reason: formText(new FormData(event.currentTarget), 'reason'),
        });
      }}
    >
      <div className="field">
        <label htmlFor={reasonId}>Why withdraw it</label>
        <input id={reasonId} name="reason" autoFocus />
      </div>
      <button type="submit" disabled={withdraw.isPending}>
        Withdraw
      </button>
      {withdraw.error ? (
        <p role="alert" className="form-error">
          {withdraw.error.message}
        </p>
      ) : null}
    </form>
  );
}
