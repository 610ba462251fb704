import type { Metadata } from 'next';
import { InvitationsView } from './invitations-view.tsx';

export const metadata: Metadata = { title: 'Invitations · Custody' };

export default function InvitationsPage() {
  return (
    <>
      <h1>Invitations</h1>
      <p className="muted">
        Invite people into your organisations with one role each. The invitation link is shown once,
        works once, and expires after a week; pass it on yourself.
      </p>
      <InvitationsView />
    </>
  );
}
