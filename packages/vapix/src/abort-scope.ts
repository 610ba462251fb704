export interface AbortScope {
  readonly signal: AbortSignal;
  /** Why the scope aborted, if it did. */
  reason(): 'caller' | 'timeout' | undefined;
  dispose(): void;
}

/** Combines the caller's signal with a deadline and remembers which one fired. */
export function createAbortScope(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): AbortScope {
  const controller = new AbortController();
  let why: 'caller' | 'timeout' | undefined;
  const onCallerAbort = (): void => {
    why ??= 'caller';
    controller.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(() => {
    why ??= 'timeout';
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref();
  return {
    signal: controller.signal,
    reason: () => why,
    dispose: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
