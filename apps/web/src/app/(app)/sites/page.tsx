import type { Metadata } from 'next';
import { currentActor } from '~/server/auth/current-actor.ts';
import { SitesView } from './sites-view.tsx';

export const metadata: Metadata = { title: 'Sites · Custody' };

export default async function SitesPage() {
  const actor = await currentActor();
  const canCreate =
    actor?.memberships.some((m) => m.role === 'integrator-admin' || m.role === 'owner-approver') ??
    false;
  const isIntegratorAdmin = actor?.memberships.some((m) => m.role === 'integrator-admin') ?? false;
  return (
    <>
      <h1>Sites</h1>
      <SitesView canCreate={canCreate} canNameNewOwner={isIntegratorAdmin} />
    </>
  );
}
