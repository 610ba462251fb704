'use client';

import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useRef } from 'react';
import { useTRPC } from '~/trpc/react.tsx';
import type { LiveState } from '../fleet/use-fleet-live.tsx';

/**
 * Follows one rotation job while its page is open: `onChange` runs whenever the engine has
 * committed a change to it, and on every (re)connection, since changes made while the page was
 * not listening cannot be replayed.
 */
export function useRotationLive(jobId: string, onChange: () => void, enabled = true): LiveState {
  const trpc = useTRPC();
  const latest = useRef(onChange);
  useEffect(() => {
    latest.current = onChange;
  });
  const subscription = useSubscription(
    trpc.rotation.live.subscriptionOptions(
      { jobId },
      {
        enabled,
        onStarted: () => latest.current(),
        onData: () => latest.current(),
      },
    ),
  );
  if (!enabled) return 'ended';
  if (subscription.status === 'pending') return 'live';
  if (subscription.status === 'error') return 'unavailable';
  return 'connecting';
}
