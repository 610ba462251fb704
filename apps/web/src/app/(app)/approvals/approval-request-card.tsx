'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useId, useRef, useState, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import {
  APPROVABLE_ACTION_LABELS,
  APPROVAL_STATUS_LABELS,
  EVIDENCE_KIND_LABELS,
  OWNERSHIP_CIRCUMSTANCE_LABELS,
  labelOf,
} from '~/server/services/approvals/approval-labels.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { Time, formatAbsolute, useNow } from '../fleet/format.tsx';
import './approvals.css';

export type ApprovalRequestView = RouterOutputs['approvals']['inbox'][number];

function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}

/** The current ownership record as an approver weighs it: who, why, attested by whom, on what. */
export function OwnershipSummary({ ownership }: { ownership: ApprovalRequestView['ownership'] }) {
  if (ownership === null) {
    return <p className="status-bad">No current ownership record.</p>;
  }
  return (
    <>
      <p>
        {ownership.ownerName}: {labelOf(OWNERSHIP_CIRCUMSTANCE_LABELS, ownership.circumstance)}.
        Attested by {ownership.attestedBy.name} on {formatAbsolute(ownership.attestedAt)}.
      </p>
      <ul>
        {ownership.evidence.map((item) => (
          <li key={item.id}>
            {labelOf(EVIDENCE_KIND_LABELS, item.kind)}: {item.reference}
            {item.document ? (
              <>
                {' '}
                (
                <a href={`/api/documents/${item.document.id}`} download>
                  {item.document.filename}
                </a>
                , {sizeOf(item.document.sizeBytes)},{' '}
                <span className="mono" title="SHA-256 of the file">
                  {item.document.sha256.slice(0, 12)}…
                </span>
                )
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

/**
 * One approval request with everything needed to decide it, and the decision form when the
 * viewer may decide. The heading level fits where the card sits.
 */
export function ApprovalRequestCard({
  request,
  headingLevel = 2,
  onDecided,
}: {
  request: ApprovalRequestView;
  headingLevel?: 2 | 3;
  /** Told the outcome of a decision made here: the card itself may leave the list with it. */
  onDecided?: ((message: string) => void) | undefined;
}) {
  const now = useNow();
  const headingId = useId();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const approvals = request.decisions.filter((decision) => decision.decision === 'approve').length;
  return (
    <article className="request-card" aria-labelledby={headingId}>
      <Heading id={headingId}>
        {labelOf(APPROVABLE_ACTION_LABELS, request.verb)} for{' '}
        <Link href={`/cameras/${request.serial}`} className="mono">
          {request.serial}
        </Link>
      </Heading>
      <p>
        <span className={`badge approval-${request.status}`}>
          {labelOf(APPROVAL_STATUS_LABELS, request.status)}
        </span>{' '}
        {request.status === 'pending' ? (
          <>
            {approvals} of {request.quorum} approval{request.quorum === 1 ? '' : 's'}; expires{' '}
            <Time value={request.expiresAt} now={now} />
          </>
        ) : request.decidedAt ? (
          <>
            since <Time value={request.decidedAt} now={now} />
          </>
        ) : null}
      </p>
      <dl className="facts">
        <dt>Camera</dt>
        <dd>
          {[request.camera.model, request.camera.productName].filter(Boolean).join(' · ') ||
            'model not read yet'}
          {request.camera.address ? (
            <>
              {' '}
              at <span className="mono">{request.camera.address}</span>
            </>
          ) : null}
        </dd>
        <dt>Site</dt>
        <dd>
          {request.site.name}
          {request.site.address ? `, ${request.site.address}` : ''}
        </dd>
        <dt>Agent</dt>
        <dd>{request.agent.name}</dd>
        <dt>Requested by</dt>
        <dd>
          {request.requestedBy.name} ({request.requestedBy.email}),{' '}
          <Time value={request.requestedAt} now={now} />
        </dd>
        <dt>Reason</dt>
        <dd className="reason">{request.reason}</dd>
        <dt>Ownership</dt>
        <dd>
          <OwnershipSummary ownership={request.ownership} />
        </dd>
        {request.decisions.length > 0 ? (
          <>
            <dt>Decisions</dt>
            <dd>
              <ul>
                {request.decisions.map((decision) => (
                  <li key={decision.approverId}>
                    {decision.decision === 'approve' ? 'Approved' : 'Denied'} by{' '}
                    {decision.approverName}, {formatAbsolute(decision.decidedAt)}: {decision.reason}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
        {request.grant ? (
          <>
            <dt>Grant</dt>
            <dd>
              Single use, {request.grant.usedAt ? 'used ' : 'valid until '}
              <Time value={request.grant.usedAt ?? request.grant.expiresAt} now={now} />
            </dd>
          </>
        ) : null}
      </dl>
      {request.canDecide ? <DecisionForm request={request} onDecided={onDecided} /> : null}
    </article>
  );
}

function DecisionForm({
  request,
  onDecided,
}: {
  request: ApprovalRequestView;
  onDecided?: ((message: string) => void) | undefined;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [outcome, setOutcome] = useState<string | null>(null);
  const reasonId = `reason-${request.id}`;

  const decide = useMutation(
    trpc.approvals.decide.mutationOptions({
      onSuccess: async (decided) => {
        const remaining =
          decided.quorum - decided.decisions.filter((d) => d.decision === 'approve').length;
        const message =
          decided.status === 'approved'
            ? `Approved ${decided.serial}: a single-use grant was issued to the technician.`
            : decided.status === 'denied'
              ? `Denied ${decided.serial}: the case is closed.`
              : `Your approval of ${decided.serial} is recorded; ${remaining} more needed.`;
        setOutcome(message);
        onDecided?.(message);
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
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value === 'deny' ? 'deny' : 'approve';
    setFieldErrors({});
    setOutcome(null);
    decide.mutate({
      requestId: request.id,
      decision,
      reason: formText(new FormData(event.currentTarget), 'reason'),
    });
  }

  const refusal = decide.error && !fieldErrors.reason ? decide.error.message : null;
  return (
    <form ref={formRef} className="stack decision-form" onSubmit={onSubmit} noValidate>
      <div className="field">
        <label htmlFor={reasonId}>Your reason</label>
        <span id={`${reasonId}-hint`} className="hint">
          Required either way: what you checked, or why not.
        </span>
        <textarea
          id={reasonId}
          name="reason"
          rows={2}
          required
          aria-invalid={fieldErrors.reason ? true : undefined}
          aria-describedby={`${reasonId}-hint${fieldErrors.reason ? ` ${reasonId}-error` : ''}`}
        />
        {fieldErrors.reason ? (
          <span id={`${reasonId}-error`} className="field-error">
            {fieldErrors.reason.join(' ')}
          </span>
        ) : null}
      </div>
      <div className="decision-buttons">
        <button type="submit" name="decision" value="approve" disabled={decide.isPending}>
          Approve
        </button>
        <button
          type="submit"
          name="decision"
          value="deny"
          className="deny"
          disabled={decide.isPending}
        >
          Deny
        </button>
      </div>
      {refusal ? (
        <p role="alert" className="form-error">
          {refusal}
        </p>
      ) : null}
      <p role="status" className="status-ok">
        {outcome}
      </p>
    </form>
  );
}
