'use client';

import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RouterInputs, RouterOutputs } from '~/server/api/root.ts';
import { useTRPC } from '~/trpc/react.tsx';

export type FleetLiveInput = RouterInputs['fleet']['live'];
type FleetLiveEvent = RouterOutputs['fleet']['live'] extends AsyncIterable<infer E> ? E : never;
export type FleetChanges = Extract<FleetLiveEvent, { type: 'changes' }>;

export type LiveState = 'connecting' | 'live' | 'unavailable' | 'ended';

/**
 * Subscribes to live fleet changes while the page is open. `onResync` runs on every
 * (re)connection and whenever the server says this page fell behind: the page reloads what it
 * shows, since changes made meanwhile cannot be replayed.
 */
export function useFleetLive(
  input: FleetLiveInput,
  handlers: { onChanges: (changes: FleetChanges) => void; onResync: () => void },
): LiveState {
  const trpc = useTRPC();
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  const [ended, setEnded] = useState(false);
  const subscription = useSubscription(
    trpc.fleet.live.subscriptionOptions(input, {
      enabled: !ended,
      onData: (event) => {
        if (event.type === 'changes') {
          latest.current.onChanges(event);
          return;
        }
        // After "ended", the reload shows the page's own "sign in" error.
        if (event.type === 'ended') setEnded(true);
        latest.current.onResync();
      },
    }),
  );
  if (ended) return 'ended';
  if (subscription.status === 'pending') return 'live';
  if (subscription.status === 'error') return 'unavailable';
  return 'connecting';
}

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting live updates…',
  live: 'Live: changes appear as agents report them.',
  unavailable: 'Live updates are unavailable; reload the page to see changes.',
  ended: 'Live updates stopped: your session ended. Sign in again to see changes.',
};

export function LiveStatus({ state }: { state: LiveState }) {
  return (
    <p className={`live-status live-${state}`} role="status">
      {LIVE_TEXT[state]}
    </p>
  );
}

/** Runs `action` at most once per `intervalMs`, trailing calls folded into one. */
export function useThrottled(action: () => void, intervalMs: number): () => void {
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | undefined }>({
    last: 0,
    timer: undefined,
  });
  const latest = useRef(action);
  useEffect(() => {
    latest.current = action;
  });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return useCallback(() => {
    const current = state.current;
    if (current.timer !== undefined) return;
    const wait = Math.max(0, current.last + intervalMs - Date.now());
    current.timer = setTimeout(() => {
      current.timer = undefined;
      current.last = Date.now();
      latest.current();
    }, wait);
  }, [intervalMs]);
}
