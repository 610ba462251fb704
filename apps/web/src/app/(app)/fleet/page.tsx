import type { Metadata } from 'next';
import { Suspense } from 'react';
import { FleetView } from './fleet-view.tsx';

export const metadata: Metadata = { title: 'Fleet · Custody' };

export default function FleetPage() {
  return (
    <>
      <h1>Fleet</h1>
      <p className="muted">
        Every camera your agents report, by serial. Filters live in the address bar: copy it to
        share this view.
      </p>
      <Suspense fallback={<p role="status">Loading cameras…</p>}>
        <FleetView />
      </Suspense>
    </>
  );
}
