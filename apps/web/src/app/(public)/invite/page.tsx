import type { Metadata } from 'next';
import { InviteView } from './invite-view.tsx';

export const metadata: Metadata = { title: 'Invitation · Custody' };

/** Opened from an invitation link: /invite#token. The token never reaches the server on GET. */
export default function InvitePage() {
  return (
    <>
      <h1>Your invitation</h1>
      <InviteView />
    </>
  );
}
