import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AuditView } from './audit-view.tsx';

export const metadata: Metadata = { title: 'Audit log · Custody' };

export default function AuditPage() {
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">
        Every change Custody makes is recorded here, each event chained to the one before by its
        hash, so an edit or a deletion in the database shows up when the chain is verified.
      </p>
      <Suspense fallback={<p role="status">Loading the audit log…</p>}>
        <AuditView />
      </Suspense>
    </>
  );
}
