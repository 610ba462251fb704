import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * CPU time from /proc (Linux), for the benchmarks' accounting: what one process used, and how
 * busy the whole machine was, other work on it included, so that figures taken on a shared
 * machine can be read for what they are.
 */

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time (user + system) of a process so far, in µs; 0 if it is gone or unreadable. */
export function processCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  } catch {
    return 0;
  }
}

export interface MachineCpu {
  busy: number;
  total: number;
}

/** Busy and total time of every core so far, in clock ticks. */
export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The busy fraction of the machine between two readings (NaN without /proc). */
export function busyBetween(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : Number.NaN;
}

/** How busy the machine is with work other than ours, sampled over `ms` before we start. */
export async function sampleMachineBusy(ms = 2_000): Promise<number> {
  const before = machineCpu();
  await sleep(ms);
  return busyBetween(before, machineCpu());
}
