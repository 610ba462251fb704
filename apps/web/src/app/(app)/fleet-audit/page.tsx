import type { Metadata } from 'next';
import { Suspense } from 'react';
import { FleetAuditView } from './fleet-audit-view.tsx';

export const metadata: Metadata = { title: 'Fleet audit · Custody' };

export default function FleetAuditPage() {
  return (
    <>
      <h1>Fleet documentation audit</h1>
      <p className="muted">
        Which cameras lack an owner record, a vaulted credential, a verification after their reset,
        a recent sighting or a place in the VMS; which run old firmware, share a serial or sit in
        factory default. Per site and fleet-wide; each count opens the cameras behind it.
      </p>
      <Suspense fallback={<p role="status">Loading the audit…</p>}>
        <FleetAuditView />
      </Suspense>
    </>
  );
}
