import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AuditReportView } from './report-view.tsx';

export const metadata: Metadata = { title: 'Fleet audit report · Custody' };

export default function FleetAuditReportPage() {
  return (
    <Suspense fallback={<p role="status">Preparing the report…</p>}>
      <AuditReportView />
    </Suspense>
  );
}
