/**
 * Simulated time. Every device-side duration (reboot downtime, button hold, nonce lifetime,
 * brute-force window, uptime) is measured on this clock, so tests can run 15 simulated seconds
 * of button hold in 15 real milliseconds. Network latency is not: it stays in real milliseconds.
 */
export interface SimulatorClock {
  /** Simulated milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` after `ms` simulated milliseconds. */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export interface ClockTimer {
  unref?(): unknown;
}

/** A clock that runs `timeScale` times faster than the wall clock. */
export function createScaledClock(timeScale = 1): SimulatorClock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  }
  const realStart = performance.now();
  const simulatedStart = Date.now();
  return {
    now: () => simulatedStart + (performance.now() - realStart) * timeScale,
    setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms / timeScale)),
    clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  };
}

/** Resolves after `ms` simulated milliseconds. */
export function sleepOnClock(clock: SimulatorClock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
