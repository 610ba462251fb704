import type { Metadata } from 'next';
import { currentActor } from '~/server/auth/current-actor.ts';
import { HandoverView } from './handover-view.tsx';

export const metadata: Metadata = { title: 'Handover · Custody' };

interface Props {
  params: Promise<{ id: string }>;
}

export default async function HandoverPage({ params }: Props) {
  const actor = await currentActor();
  // The server decides for the case's site; this only hides the confirmation form.
  const canConfirm =
    actor?.memberships.some(
      (m) =>
        m.orgKind === 'integrator' && (m.role === 'technician' || m.role === 'integrator-admin'),
    ) ?? false;
  return <HandoverView caseId={(await params).id} canConfirm={canConfirm} />;
}
