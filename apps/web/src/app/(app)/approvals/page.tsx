import type { Metadata } from 'next';
import { ApprovalsView } from './approvals-view.tsx';

export const metadata: Metadata = { title: 'Approvals · Custody' };

export default function ApprovalsPage() {
  return (
    <>
      <h1>Approvals</h1>
      <p className="muted">
        Technicians ask the owner before anything that wipes a camera. Check the camera, the reason
        and the ownership evidence, then approve or deny with a reason. An approval is bound to this
        camera, action, site and agent, is used once and expires.
      </p>
      <ApprovalsView />
    </>
  );
}
