import type { Metadata } from 'next';
import { Suspense } from 'react';
import { AgentsView } from './agents-view.tsx';

export const metadata: Metadata = { title: 'Agents · Custody' };

export default function AgentsPage() {
  return (
    <>
      <h1>Agents</h1>
      <p className="muted">
        Each site runs an agent on its own network. It finds the cameras there and carries out the
        commands Custody signs for them.
      </p>
      <Suspense fallback={<p role="status">Loading agents…</p>}>
        <AgentsView />
      </Suspense>
    </>
  );
}
