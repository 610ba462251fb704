export interface AbortScope {
  /** Why the scope aborted, if it did. */
  reason(): 'caller' | 'timeout' | undefined;
  /** What aborted it: the caller's reason or the timeout error; undefined until then. */
  error(): unknown;
  /**
   * Sets the one function told about the abort (a later call replaces it), called at once if
   * the scope has already aborted.
   */
  onAbort(listener: (error: unknown) => void): void;
  dispose(): void;
}

/**
 * A class rather than closures: one scope is made per call, and its methods then cost nothing
 * to create (tsx's keep-names wrapper makes every named closure noticeably dearer).
 */
class CallScope implements AbortScope {
  private why: 'caller' | 'timeout' | undefined;
  private cause: unknown;
  private listener: ((error: unknown) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort: (() => void) | undefined;

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(
      () => this.abort('timeout', new Error(`timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.timer.unref();
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) {
        this.abort('caller', callerSignal.reason);
      } else {
        this.onCallerAbort = () => this.abort('caller', callerSignal.reason);
        callerSignal.addEventListener('abort', this.onCallerAbort, { once: true });
      }
    }
  }

  reason(): 'caller' | 'timeout' | undefined {
    return this.why;
  }

  error(): unknown {
    return this.cause;
  }

  onAbort(listener: (error: unknown) => void): void {
    this.listener = listener;
    if (this.why !== undefined) listener(this.cause);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.listener = undefined;
    if (this.onCallerAbort !== undefined) {
      this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
    }
  }

  private abort(why: 'caller' | 'timeout', cause: unknown): void {
    if (this.why !== undefined) return;
    this.why = why;
    this.cause = cause;
    this.listener?.(cause);
  }
}

/**
 * Combines the caller's signal with a deadline and remembers which one fired. It holds no
 * AbortController: the in-flight request is aborted through its dispatch controller, so a
 * call costs one timer, plus one listener only when the caller passed a signal.
 */
export function createAbortScope(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): AbortScope {
  return new CallScope(callerSignal, timeoutMs);
}
