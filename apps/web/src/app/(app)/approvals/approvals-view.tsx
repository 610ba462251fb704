'use client';

import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTRPC } from '~/trpc/react.tsx';
import { ApprovalRequestCard } from './approval-request-card.tsx';

const VIEWS = [
  { value: 'pending', label: 'Waiting for a decision' },
  { value: 'decided', label: 'Decided, expired or withdrawn' },
] as const;
type InboxView = (typeof VIEWS)[number]['value'];

/** The owner side's inbox: requests to the owner organisations the viewer belongs to. */
export function ApprovalsView() {
  const trpc = useTRPC();
  const [view, setView] = useState<InboxView>('pending');
  const [announcement, setAnnouncement] = useState<string | null>(null);
  const announcementRef = useRef<HTMLParagraphElement>(null);
  // A decided request leaves the pending list, and its form with it: say what happened here and
  // keep the keyboard on the page.
  const onDecided = (message: string) => {
    setAnnouncement(message);
    announcementRef.current?.focus();
  };
  const inbox = useQuery(
    trpc.approvals.inbox.queryOptions({ view, limit: 100 }, { refetchInterval: 30_000 }),
  );
  return (
    <>
      <div className="tabs" role="group" aria-label="Which requests">
        {VIEWS.map((option) => (
          <button
            key={option.value}
            type="button"
            aria-pressed={view === option.value}
            onClick={() => setView(option.value)}
          >
            {option.label}
          </button>
        ))}
      </div>
      <p ref={announcementRef} role="status" className="status-ok" tabIndex={-1}>
        {announcement}
      </p>
      {inbox.isPending ? (
        <p role="status">Loading requests…</p>
      ) : inbox.isError ? (
        <p role="alert" className="form-error">
          The requests could not be loaded: {inbox.error.message}
        </p>
      ) : inbox.data.length === 0 ? (
        <p role="status">
          {view === 'pending' ? 'Nothing is waiting for a decision.' : 'No decided requests yet.'}
        </p>
      ) : (
        <>
          <p role="status" className="visually-hidden">
            {inbox.data.length} request{inbox.data.length === 1 ? '' : 's'}
          </p>
          {inbox.data.map((request) => (
            <ApprovalRequestCard key={request.id} request={request} onDecided={onDecided} />
          ))}
        </>
      )}
    </>
  );
}
