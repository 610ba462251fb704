import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RotationsView } from './rotations-view.tsx';

export const metadata: Metadata = { title: 'Rotations · Custody' };

export default function RotationsPage() {
  return (
    <>
      <h1>Credential rotations</h1>
      <p className="muted">
        Change a camera account&rsquo;s password across sites: a canary batch first, then waves. A
        camera counts as rotated only when its new password works and the old one fails; until then
        both stay in the vault.
      </p>
      <Suspense fallback={<p role="status">Loading rotations…</p>}>
        <RotationsView />
      </Suspense>
    </>
  );
}
