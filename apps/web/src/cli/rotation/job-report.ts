import {
  ROTATION_ITEM_STATUSES,
  type RotationItemStatus,
  type RotationJobStatus,
} from '@custody/core';

export type ItemStatus = RotationItemStatus;
export type JobStatus = RotationJobStatus;
const ITEM_STATUSES = ROTATION_ITEM_STATUSES;

/** A camera left out of a job, with the reason's code and the server's words for it. */
export interface SkippedView {
  serial: string;
  reason: string;
  label: string;
}

/** What the CLI reads of `rotation.get`. */
export interface JobView {
  job: {
    id: string;
    status: JobStatus;
    account: string;
    currentWave: number;
    stopReason: string | null;
    createdAt: Date;
    finishedAt: Date | null;
  };
  waves: { wave: number; total: number; byStatus: Record<ItemStatus, number> }[];
  totals: Record<ItemStatus, number>;
  /** Cameras of the selection left out when the job was created (the first of them). */
  skipped: readonly SkippedView[];
  skippedCount: number;
}

/** What the CLI reads of one `rotation.items` row. */
export interface ItemView {
  serial: string;
  siteName: string;
  model: string | null;
  wave: number;
  status: ItemStatus;
  error: { code: string; message: string } | null;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** What `start` prints once the job exists: its size, its plan and what was left out. */
export function formatCreated(
  created: { jobId: string; cameras: number; waves: number; skipped: readonly SkippedView[] },
  settings: { canarySize: number; waveSize: number; maxFailures: number },
): string {
  const canary = Math.min(settings.canarySize, created.cameras);
  const plan =
    created.waves === 0
      ? 'all in the canary batch'
      : `a canary of ${canary}, then ${plural(created.waves, 'wave')} of up to ${settings.waveSize}`;
  const lines = [
    `Started rotation job ${created.jobId}: ${plural(created.cameras, 'camera')}, ${plan}; more than ${plural(settings.maxFailures, 'failure')} in a wave stops the job.`,
  ];
  if (created.skipped.length > 0) {
    lines.push(`Left out (${created.skipped.length}):`);
    for (const skip of created.skipped) {
      lines.push(`  ${skip.serial}: ${skip.label}`);
    }
  }
  return lines.join('\n');
}

const FINAL_STATUSES = new Set<JobStatus>(['completed', 'cancelled', 'stopped']);

export function cameraCount(view: JobView): number {
  return ITEM_STATUSES.reduce((sum, status) => sum + (view.totals[status] ?? 0), 0);
}

export function inFlight(view: JobView): number {
  return (view.totals.changing ?? 0) + (view.totals.checking ?? 0);
}

/**
 * The job has ended and nothing it started is still on a camera: a cancelled or stopped job
 * lets the changes already under way finish, and they are part of its outcome.
 */
export function isSettled(view: JobView): boolean {
  return FINAL_STATUSES.has(view.job.status) && inFlight(view) === 0;
}

/** Exit code 0 only for a completed job without a failed camera. */
export function isSuccess(view: JobView): boolean {
  return view.job.status === 'completed' && (view.totals.failed ?? 0) === 0;
}

function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function waveText(view: JobView): string {
  if (view.waves.length === 0) return 'no wave';
  const current = view.job.currentWave;
  // Wave 0 is the canary batch.
  const label = current === 0 ? 'canary' : `wave ${current}`;
  const wave = view.waves.find((entry) => entry.wave === current);
  const waveDone = wave
    ? (wave.byStatus.rotated ?? 0) + (wave.byStatus.failed ?? 0) + (wave.byStatus.skipped ?? 0)
    : 0;
  const last = Math.max(...view.waves.map((entry) => entry.wave));
  return `${label} (${current} of ${last}) ${waveDone}/${wave?.total ?? 0}`;
}

/**
 * One line of progress: status, wave, a bar, and the counts per item status. The CLI prints
 * it whenever it differs from the last one printed.
 */
export function formatProgressLine(view: JobView): string {
  const total = cameraCount(view);
  const { rotated = 0, failed = 0, skipped = 0, queued = 0 } = view.totals;
  const done = rotated + failed + skipped;
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
  const parts = [
    view.job.status.padEnd(9),
    `${bar(done, total)} ${done}/${total} (${percent}%)`,
    waveText(view),
    `rotated ${rotated}`,
    `failed ${failed}`,
    `skipped ${skipped}`,
    `in progress ${inFlight(view)}`,
    `queued ${queued}`,
  ];
  if (view.job.stopReason && view.job.status !== 'completed') {
    parts.push(`reason: ${view.job.stopReason}`);
  }
  return parts.join(' · ');
}

function duration(from: Date, to: Date): string {
  const seconds = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function itemLine(item: Pick<ItemView, 'serial' | 'siteName' | 'model'>, reason: string): string {
  const where = [item.siteName, item.model].filter(Boolean).join(', ');
  return `  ${item.serial}  ${where}${reason ? `: ${reason}` : ''}`;
}

export interface SummaryInput {
  view: JobView;
  failed: readonly ItemView[];
  skipped: readonly ItemView[];
  /** Where the whole list is, for lists cut short. */
  pageUrl: string;
  now?: Date;
}

/** The end of a watch: what happened, each failed camera with its error, each skipped one with why. */
export function formatSummary({ view, failed, skipped, pageUrl, now }: SummaryInput): string {
  const { job, totals } = view;
  const took = duration(job.createdAt, job.finishedAt ?? now ?? new Date());
  const lines = [
    `Job ${job.id} ${job.status} after ${took}: ${totals.rotated ?? 0} rotated, ${totals.failed ?? 0} failed, ${totals.skipped ?? 0} skipped of ${plural(cameraCount(view), 'camera')} (${job.account} account).`,
  ];
  if (job.stopReason && job.status !== 'completed') lines.push(`Reason: ${job.stopReason}`);
  const sections: [string, readonly ItemView[], number][] = [
    ['Failed', failed, totals.failed ?? 0],
    ['Skipped', skipped, totals.skipped ?? 0],
  ];
  for (const [title, items, count] of sections) {
    if (count === 0) continue;
    lines.push(`${title} (${count}):`);
    for (const item of items) lines.push(itemLine(item, item.error?.message ?? ''));
    if (items.length < count) lines.push(`  … and ${count - items.length} more: ${pageUrl}`);
  }
  if (view.skippedCount > 0) {
    lines.push(`Left out at the start (${view.skippedCount}):`);
    for (const skip of view.skipped) lines.push(`  ${skip.serial}: ${skip.label}`);
    if (view.skipped.length < view.skippedCount) {
      lines.push(`  … and ${view.skippedCount - view.skipped.length} more: ${pageUrl}`);
    }
  }
  if ((totals.queued ?? 0) > 0) {
    lines.push(`Not started (${totals.queued}): still queued.`);
  }
  if (job.status === 'stopped') {
    lines.push(
      `Resume the job with: rotation resume ${job.id}, or retry its failed cameras with: rotation retry ${job.id}`,
    );
  } else if (job.status === 'completed' && (totals.failed ?? 0) > 0) {
    lines.push(`Retry the failed cameras with: rotation retry ${job.id}`);
  }
  return `${lines.join('\n')}\n`;
}
