'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import {
  APPROVABLE_ACTION_LABELS,
  EVIDENCE_KIND_LABELS,
  OWNERSHIP_CIRCUMSTANCE_LABELS,
  labelOf,
} from '~/server/services/approvals/approval-labels.ts';
import { formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { formatAbsolute } from '../../../fleet/format.tsx';
import './handover.css';

function when(value: Date | null | undefined): string {
  return value ? formatAbsolute(value) : '—';
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** The printable handover sheet of a case, its exports, and the confirmation that documents it. */
export function HandoverView({ caseId, canConfirm }: { caseId: string; canConfirm: boolean }) {
  const trpc = useTRPC();
  const handover = useQuery(trpc.handover.get.queryOptions({ caseId }));
  const headingRef = useRef<HTMLHeadingElement>(null);
  const loaded = handover.isSuccess;
  useEffect(() => {
    if (loaded) headingRef.current?.focus();
  }, [loaded]);

  if (handover.isPending) return <p role="status">Loading the handover…</p>;
  if (handover.isError) {
    return (
      <p role="alert" className="form-error">
        {handover.error.data?.code === 'NOT_FOUND'
          ? 'No such case at your sites.'
          : `The handover could not be loaded: ${handover.error.message}`}
      </p>
    );
  }
  const data = handover.data;
  const exportUrl = (format: string) => `/api/handover/cases/${caseId}?format=${format}`;
  const siteExportUrl = (format: string) => `/api/handover/sites/${data.site.id}?format=${format}`;
  return (
    <article className="handover" aria-labelledby="handover-heading">
      <p className="no-print">
        <Link href={`/cases/${caseId}`}>← Case for camera {data.camera.serial}</Link>
      </p>
      <h1 id="handover-heading" ref={headingRef} tabIndex={-1}>
        Handover: {data.camera.model ?? 'camera'} <span className="mono">{data.camera.serial}</span>
      </h1>
      <p>
        Case <span className="mono">{data.case.id}</span>, {data.case.status}
        {data.case.handedOver
          ? `: handed over by ${data.case.handedOver.by} on ${when(data.case.handedOver.at)}.`
          : '.'}{' '}
        Generated {when(data.generatedAt)}.
      </p>
      <div className="no-print handover-actions">
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
        <span>
          Download this case: <a href={exportUrl('pdf')}>PDF</a>, <a href={exportUrl('csv')}>CSV</a>
          , <a href={exportUrl('json')}>JSON</a>
        </span>
        <span>
          All verified cases of {data.site.name}:{' '}
          <a href={siteExportUrl('pdf')} aria-label="Site export (PDF)">
            PDF
          </a>
          ,{' '}
          <a href={siteExportUrl('csv')} aria-label="Site export (CSV)">
            CSV
          </a>
          ,{' '}
          <a href={siteExportUrl('json')} aria-label="Site export (JSON)">
            JSON
          </a>
        </span>
      </div>
      {canConfirm && data.case.status === 'verified' ? <ConfirmForm caseId={caseId} /> : null}

      <section aria-labelledby="camera-heading">
        <h2 id="camera-heading">Camera</h2>
        <dl className="facts">
          <Fact term="Model">
            {[data.camera.model, data.camera.productName].filter(Boolean).join(' · ') || '—'}
          </Fact>
          <Fact term="Serial">
            <span className="mono">{data.camera.serial}</span>
          </Fact>
          <Fact term="MAC address">
            <span className="mono">{data.camera.mac ?? '—'}</span>
          </Fact>
          <Fact term="Firmware">{data.camera.firmware ?? '—'}</Fact>
          <Fact term="Address">
            <span className="mono">{data.camera.address ?? '—'}</span>
            {data.camera.plannedAddress ? ` (planned: ${data.camera.plannedAddress})` : ''}
          </Fact>
        </dl>
      </section>

      <section aria-labelledby="owner-heading">
        <h2 id="owner-heading">Owner and site</h2>
        <dl className="facts">
          <Fact term="Owner">{data.owner.name}</Fact>
          <Fact term="Site">
            {data.site.name}
            {data.site.address ? `, ${data.site.address}` : ''}
          </Fact>
          {data.owner.record ? (
            <>
              <Fact term="Circumstance">
                {labelOf(OWNERSHIP_CIRCUMSTANCE_LABELS, data.owner.record.circumstance)}
              </Fact>
              <Fact term="Attested">
                by {data.owner.record.attestedBy}, {when(data.owner.record.attestedAt)}
              </Fact>
              <Fact term="Evidence">
                <ul className="plain">
                  {data.owner.record.evidence.map((item, index) => (
                    <li key={`${item.kind}-${index}`}>
                      {labelOf(EVIDENCE_KIND_LABELS, item.kind)}: {item.reference}
                      {item.document ? (
                        <>
                          {' '}
                          (
                          <a href={`/api/documents/${item.document.id}`}>
                            {item.document.filename}
                          </a>
                          , SHA-256 <span className="mono hash">{item.document.sha256}</span>)
                        </>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </Fact>
            </>
          ) : (
            <Fact term="Ownership record">None</Fact>
          )}
        </dl>
      </section>

      <section aria-labelledby="credentials-heading">
        <h2 id="credentials-heading">Credentials</h2>
        <p className="muted">
          References only: the passwords stay in the Custody vault and are revealed there, with a
          reason, to those allowed.
        </p>
        {data.credentials.length === 0 ? (
          <p>No credential recorded.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Username</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Vault reference</th>
              </tr>
            </thead>
            <tbody>
              {data.credentials.map((credential) => (
                <tr key={credential.credentialId}>
                  <th scope="row">{credential.account}</th>
                  <td className="mono">{credential.username}</td>
                  <td>{credential.version}</td>
                  <td>{credential.status}</td>
                  <td className="mono hash">{credential.credentialId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="vms-heading">
        <h2 id="vms-heading">Video management system</h2>
        <dl className="facts">
          <Fact term="Platform">{data.vms.platform ?? '—'}</Fact>
          <Fact term="VMS account">
            <span className="mono">{data.vms.username ?? '—'}</span>
          </Fact>
          <Fact term="Re-added">
            {data.vms.confirmation
              ? `confirmed by ${data.vms.confirmation.confirmedBy}, ${when(data.vms.confirmation.confirmedAt)}${data.vms.confirmation.note ? ` (${data.vms.confirmation.note})` : ''}`
              : 'not confirmed'}
          </Fact>
        </dl>
      </section>

      <section aria-labelledby="verification-heading">
        <h2 id="verification-heading">Verification</h2>
        {data.verification ? (
          <>
            <p className={data.verification.passed ? 'status-ok' : 'status-bad'}>
              {data.verification.passed ? 'Passed' : 'Failed'}, {when(data.verification.at)}.
            </p>
            <ul className="plain">
              {data.verification.checks.map((check) => (
                <li key={check.kind}>
                  {check.kind}: {check.outcome}
                  {check.summary ? ` (${check.summary})` : ''}
                </li>
              ))}
              {data.verification.snapshot ? (
                <li>
                  Snapshot:{' '}
                  <a href={`/api/documents/${data.verification.snapshot.documentId}`}>JPEG</a>,
                  SHA-256 <span className="mono hash">{data.verification.snapshot.sha256}</span>
                </li>
              ) : null}
              {data.verification.recordingAttestation ? (
                <li>
                  Recording: {data.verification.recordingAttestation.statement} (
                  {data.verification.recordingAttestation.attestedBy},{' '}
                  {when(data.verification.recordingAttestation.attestedAt)})
                </li>
              ) : null}
            </ul>
          </>
        ) : (
          <p>Not verified.</p>
        )}
      </section>

      <section aria-labelledby="approvals-heading">
        <h2 id="approvals-heading">Approvals</h2>
        {data.approvals.length === 0 ? (
          <p>No approval was requested.</p>
        ) : (
          <ul className="plain">
            {data.approvals.map((approval) => (
              <li key={approval.requestId}>
                {labelOf(APPROVABLE_ACTION_LABELS, approval.verb)}: {approval.status}; requested by{' '}
                {approval.requestedBy}, {when(approval.requestedAt)}: “{approval.reason}”
                {approval.decisions.map((decision) => (
                  <span
                    key={`${decision.approver}-${decision.decidedAt.getTime()}`}
                    className="block"
                  >
                    {decision.decision === 'approve' ? 'Approved' : 'Denied'} by {decision.approver}
                    , {when(decision.decidedAt)}: “{decision.reason}”
                  </span>
                ))}
                {approval.grant ? (
                  <span className="block">
                    Grant{' '}
                    {approval.grant.usedAt ? `used ${when(approval.grant.usedAt)}` : 'not used'}
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="timeline-heading" className="handover-timeline">
        <h2 id="timeline-heading">Timeline</h2>
        <p className="muted">Every audit-log entry about this case, oldest first.</p>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {data.timeline.map((entry) => (
              <tr key={entry.seq}>
                <td>
                  <time dateTime={entry.at.toISOString()}>{when(entry.at)}</time>
                </td>
                <td>{entry.actor}</td>
                <td className="mono">{entry.action}</td>
                <td>{entry.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </article>
  );
}

function ConfirmForm({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const confirm = useMutation(
    trpc.handover.confirm.mutationOptions({
      onSuccess: async () => {
        setDone('Handed over: the case is documented.');
        await queryClient.invalidateQueries(trpc.handover.pathFilter());
        await queryClient.invalidateQueries(trpc.cases.pathFilter());
      },
    }),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    confirm.mutate({ caseId, note: formText(new FormData(event.currentTarget), 'note') });
  }
  return (
    <section aria-labelledby="confirm-heading" className="no-print">
      <h2 id="confirm-heading">Confirm the handover</h2>
      <form className="stack" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="field-note">Note (optional)</label>
          <span id="field-note-hint" className="hint">
            Who received the handover sheet, anything the owner should know.
          </span>
          <textarea id="field-note" name="note" rows={2} aria-describedby="field-note-hint" />
        </div>
        <button type="submit" disabled={confirm.isPending}>
          {confirm.isPending ? 'Confirming…' : 'Confirm handover and close the case'}
        </button>
        {confirm.error ? (
          <p role="alert" className="form-error">
            {confirm.error.message}
          </p>
        ) : null}
        <p role="status" className="status-ok">
          {done}
        </p>
      </form>
    </section>
  );
}
