import type { Metadata } from 'next';
import { Suspense } from 'react';
import { CasesView } from './cases-view.tsx';

export const metadata: Metadata = { title: 'Cases · Custody' };

export default function CasesPage() {
  return (
    <>
      <h1>Recommissioning cases</h1>
      <p className="muted">
        One case per camera serial: where it stands, what is needed next and who must act.
      </p>
      <Suspense fallback={<p role="status">Loading cases…</p>}>
        <CasesView />
      </Suspense>
    </>
  );
}
