'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '~/trpc/react.tsx';
import './approvals.css';

/** The number of requests waiting for the viewer's decision, beside the nav link; nothing at 0. */
export function ApprovalsBadge() {
  const trpc = useTRPC();
  const count = useQuery(
    trpc.approvals.pendingCount.queryOptions(undefined, { refetchInterval: 30_000 }),
  );
  if (!count.data) return null;
  return (
    <span className="nav-count">
      {count.data}
      <span className="nav-count-text"> waiting for your decision</span>
    </span>
  );
}
