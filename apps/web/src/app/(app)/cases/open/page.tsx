import type { Metadata } from 'next';
import { Suspense } from 'react';
import { BulkOpenView } from './bulk-open-view.tsx';

export const metadata: Metadata = { title: 'Open cases · Custody' };

export default function BulkOpenPage() {
  return (
    <>
      <h1>Open cases for a site</h1>
      <Suspense fallback={<p role="status">Loading…</p>}>
        <BulkOpenView />
      </Suspense>
    </>
  );
}
