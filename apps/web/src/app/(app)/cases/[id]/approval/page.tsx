import type { Metadata } from 'next';
import { currentActor } from '~/server/auth/current-actor.ts';
import { CaseApprovalView } from './case-approval-view.tsx';

export const metadata: Metadata = { title: 'Owner approval · Custody' };

interface Props {
  params: Promise<{ id: string }>;
}

export default async function CaseApprovalPage({ params }: Props) {
  const actor = await currentActor();
  // Who may ask is decided by the server for the case's site; this only hides the form.
  const canRequest =
    actor?.memberships.some(
      (m) =>
        m.orgKind === 'integrator' && (m.role === 'technician' || m.role === 'integrator-admin'),
    ) ?? false;
  return <CaseApprovalView caseId={(await params).id} canRequest={canRequest} />;
}
