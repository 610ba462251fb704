'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRef, useState, type FormEvent } from 'react';
import { Field } from '~/app/_components/field.tsx';
import type { RouterInputs, RouterOutputs } from '~/server/api/root.ts';
import {
  OWNERSHIP_CIRCUMSTANCE_LABELS,
  labelOf,
} from '~/server/services/approvals/approval-labels.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { OwnershipSummary } from '../../../approvals/approval-request-card.tsx';
import { Time, useNow } from '../../../fleet/format.tsx';

type History = RouterOutputs['ownership']['history'];
type Evidence = RouterInputs['ownership']['record']['evidence'];
type Circumstance = RouterInputs['ownership']['record']['circumstance'];

const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const UPLOAD_TYPES = ['application/pdf', 'image/jpeg', 'image/png'];

interface UploadedDocument {
  id: string;
  filename: string;
}

/** Sends one file to the upload endpoint; the server checks size and content again. */
async function uploadDocument(serial: string, file: File): Promise<UploadedDocument> {
  const response = await fetch(`/api/documents?serial=${encodeURIComponent(serial)}`, {
    method: 'POST',
    headers: {
      'content-type': file.type || 'application/octet-stream',
      'x-custody-upload': '1',
      'x-custody-filename': encodeURIComponent(file.name),
    },
    body: file,
  });
  const body = (await response.json().catch(() => null)) as {
    document?: UploadedDocument;
    error?: { message?: string };
  } | null;
  if (!response.ok || !body?.document) {
    throw new Error(body?.error?.message ?? `The upload failed (HTTP ${response.status}).`);
  }
  return body.document;
}

export function OwnershipView({ serial }: { serial: string }) {
  const trpc = useTRPC();
  const now = useNow();
  const history = useQuery(trpc.ownership.history.queryOptions({ serial }));

  if (history.isPending) return <p role="status">Loading ownership of {serial}…</p>;
  if (history.isError) {
    return (
      <>
        <h1>Ownership of {serial}</h1>
        <p role="alert" className="form-error">
          {history.error.data?.code === 'NOT_FOUND'
            ? 'No camera with this serial is known at your sites.'
            : `The ownership records could not be loaded: ${history.error.message}`}
        </p>
      </>
    );
  }
  const data = history.data;
  const current = data.records.find((record) => record.current) ?? null;
  const earlier = data.records.filter((record) => !record.current);
  return (
    <>
      <p>
        <Link href={`/cameras/${data.camera.serial}`}>← Camera {data.camera.serial}</Link>
      </p>
      <h1>
        Ownership of <span className="mono">{data.camera.serial}</span>
        {data.camera.model ? ` · ${data.camera.model}` : ''}
      </h1>
      <p>
        At {data.camera.site.name}, a site of {data.camera.site.ownerName}. Recommissioning needs a
        current ownership record attested by one of its owner approvers; inherited cameras too.
      </p>
      <section aria-labelledby="current-heading">
        <h2 id="current-heading">Current record</h2>
        {current === null ? (
          <p className="status-bad">None yet: no reset can be requested for this camera.</p>
        ) : (
          <OwnershipSummary ownership={current} />
        )}
      </section>
      {data.canRecord ? <RecordOwnershipForm history={data} /> : null}
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {earlier.length === 0 ? (
          <p>No earlier records.</p>
        ) : (
          <ol className="timeline">
            {earlier.map((record) => (
              <li key={record.id}>
                {record.ownerName}, {labelOf(OWNERSHIP_CIRCUMSTANCE_LABELS, record.circumstance)},
                attested by {record.attestedBy.name} <Time value={record.attestedAt} now={now} />;
                superseded <Time value={record.supersededAt} now={now} />. Evidence:{' '}
                {record.evidence.map((item) => item.reference).join(', ')}.
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function RecordOwnershipForm({ history }: { history: History }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [progress, setProgress] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const serial = history.camera.serial;

  const record = useMutation(trpc.ownership.record.mutationOptions());

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => formText(form, name).trim();
    const file = form.get('document');
    setFieldErrors({});
    setDone(null);

    const evidence: Evidence = [];
    if (text('orderNumber'))
      evidence.push({ kind: 'order-number', reference: text('orderNumber') });
    if (text('invoiceNumber')) evidence.push({ kind: 'invoice', reference: text('invoiceNumber') });
    if (text('otherEvidence')) evidence.push({ kind: 'other', reference: text('otherEvidence') });

    const hasFile = file instanceof File && file.size > 0;
    if (hasFile && (file.size > MAX_UPLOAD_BYTES || !UPLOAD_TYPES.includes(file.type))) {
      setFieldErrors({ document: ['Choose a PDF, JPEG or PNG of at most 10 MiB.'] });
      formRef.current?.querySelector<HTMLElement>('[name="document"]')?.focus();
      return;
    }
    if (!hasFile && evidence.length === 0) {
      setFieldErrors({ evidence: ['Give at least one piece of evidence.'] });
      formRef.current?.querySelector<HTMLElement>('[name="orderNumber"]')?.focus();
      return;
    }
    setBusy(true);
    try {
      if (hasFile) {
        setProgress(`Uploading ${file.name}…`);
        const document = await uploadDocument(serial, file).catch((error: unknown) => {
          setFieldErrors({ document: [(error as Error).message] });
          formRef.current?.querySelector<HTMLElement>('[name="document"]')?.focus();
          throw error;
        });
        evidence.push({
          kind: 'document',
          reference: text('documentDescription') || document.filename,
          documentId: document.id,
        });
      }
      setProgress('Recording the ownership…');
      await record.mutateAsync({
        serial,
        circumstance: formText(form, 'circumstance') as Circumstance,
        evidence,
      });
      formRef.current?.reset();
      setDone('Ownership recorded. Any case waiting for it has moved on.');
      await queryClient.invalidateQueries(trpc.ownership.pathFilter());
      await queryClient.invalidateQueries(trpc.cameras.get.queryFilter({ serial }));
      await queryClient.invalidateQueries(trpc.cases.pathFilter());
    } catch (error) {
      const errors = fieldErrorsFrom(error);
      if (Object.keys(errors).length > 0) setFieldErrors(errors);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  }

  const formError =
    record.error && Object.keys(fieldErrors).length === 0 ? record.error.message : null;
  const evidenceErrors = [...(fieldErrors.evidence ?? []), ...(fieldErrors[''] ?? [])];
  return (
    <section aria-labelledby="record-heading">
      <h2 id="record-heading">Attest the owner</h2>
      <p className="muted">
        You attest, as an owner approver of {history.camera.site.ownerName}, that it owns this
        camera. The current record, if any, is kept in the history.
      </p>
      <form ref={formRef} className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor="field-circumstance">Circumstance</label>
          <select id="field-circumstance" name="circumstance" defaultValue="original-purchase">
            {Object.entries(OWNERSHIP_CIRCUMSTANCE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <fieldset aria-describedby={evidenceErrors.length ? 'evidence-error' : undefined}>
          <legend>Evidence (at least one)</legend>
          {evidenceErrors.length ? (
            <p id="evidence-error" role="alert" className="field-error">
              {evidenceErrors.join(' ')}
            </p>
          ) : null}
          <Field name="orderNumber" label="Order number" autoComplete="off" />
          <Field name="invoiceNumber" label="Invoice number" autoComplete="off" />
          <div className="field">
            <label htmlFor="field-document">Document (PDF, JPEG or PNG, up to 10 MiB)</label>
            <input
              id="field-document"
              name="document"
              type="file"
              accept="application/pdf,image/jpeg,image/png"
              aria-invalid={fieldErrors.document ? true : undefined}
              aria-describedby={fieldErrors.document ? 'field-document-error' : undefined}
            />
            {fieldErrors.document ? (
              <span id="field-document-error" className="field-error">
                {fieldErrors.document.join(' ')}
              </span>
            ) : null}
          </div>
          <Field
            name="documentDescription"
            label="What the document is"
            hint="For example: invoice from the original installer, 2019."
          />
          <Field name="otherEvidence" label="Other evidence" multiline />
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? 'Recording…' : 'Record ownership'}
        </button>
        <p role="status" className="status-ok">
          {progress ?? done}
        </p>
      </form>
    </section>
  );
}
