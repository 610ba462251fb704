import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openOutbox } from '../../apps/agent/src/store/outbox.ts';
import { progressMessage } from '../../apps/agent/src/store/testing/agent-messages.ts';
import { countingFs } from '../../apps/agent/src/store/testing/counting-fs.ts';

/*
 * Appends per second to the agent's outbox, each durable (fsync) before it resolves, against the
 * disk's own rate of 1 KiB write+fsync pairs. A sequential appender cannot beat that rate (one
 * fsync per append), so its ratio is the efficiency; 1,000 concurrent appends share fsyncs (group
 * commit), so theirs may be far above 1.
 */

const MESSAGE_BYTES = 1024;
const CONCURRENCY = 1_000;

export interface OutboxAppendFigures {
  fsyncsPerSecond: number;
  sequentialPerSecond: number;
  /** Median over the repeats of sequential appends/s ÷ the fsync rate measured just before. */
  sequentialRatio: number;
  concurrentPerSecond: number;
  /** Waits for the disk (O_DSYNC writes, fsyncs) per 1,000 concurrent appends; rolls add a few. */
  syncsPerConcurrentBatch: number;
}

/** A loop of 1 KiB write + fsyncSync on a temp file: the most durable appends one writer gets. */
function measureFsyncRate(dir: string, seconds: number): number {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'a', 0o600);
  const block = Buffer.alloc(MESSAGE_BYTES, 0x2e);
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    writeSync(fd, block);
    fsyncSync(fd);
    count += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  closeSync(fd);
  return count / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function measureOutboxAppend(options: {
  dir: string;
  seconds: number;
  repeat: number;
  rounds: number;
}): Promise<OutboxAppendFigures> {
  // Messages are made up front and the code warmed up, so what is timed is the appending.
  const messages = Array.from({ length: CONCURRENCY }, (_, index) =>
    progressMessage(`m${index}`, MESSAGE_BYTES),
  );
  const sequential = await openOutbox(join(options.dir, 'sequential'));
  for (const message of messages.slice(0, 200)) await sequential.append(message);
  // A shared disk's fsync rate drifts, so each sequential run is paired with a probe just before.
  const fsyncRates: number[] = [];
  const sequentialRates: number[] = [];
  for (let repeat = 0; repeat < options.repeat; repeat += 1) {
    fsyncRates.push(measureFsyncRate(options.dir, options.seconds));
    let appended = 0;
    const started = performance.now();
    while (performance.now() - started < options.seconds * 1000) {
      await sequential.append(messages[appended % messages.length]!);
      appended += 1;
    }
    sequentialRates.push(appended / ((performance.now() - started) / 1000));
  }
  await sequential.close();

  const counting = countingFs();
  const concurrent = await openOutbox(join(options.dir, 'concurrent'), { fs: counting.fs });
  await Promise.all(messages.map((message) => concurrent.append(message)));
  counting.reset();
  const concurrentStart = performance.now();
  for (let round = 0; round < options.rounds; round += 1) {
    await Promise.all(messages.map((message) => concurrent.append(message)));
  }
  const concurrentPerSecond =
    (options.rounds * CONCURRENCY) / ((performance.now() - concurrentStart) / 1000);
  const syncs = counting.flushes();
  await concurrent.close();

  return {
    fsyncsPerSecond: median(fsyncRates),
    sequentialPerSecond: median(sequentialRates),
    sequentialRatio: median(sequentialRates.map((rate, index) => rate / fsyncRates[index]!)),
    concurrentPerSecond,
    syncsPerConcurrentBatch: syncs / options.rounds,
  };
}

export function formatFigures(figures: OutboxAppendFigures): string {
  const rate = (value: number) => `${Math.round(value).toLocaleString('en')}/s`;
  return [
    `disk: 1 KiB write + fsync          ${rate(figures.fsyncsPerSecond)} (median; the limit for one sequential writer)`,
    `outbox, sequential 1 KiB appends   ${rate(figures.sequentialPerSecond)} (median), ${figures.sequentialRatio.toFixed(2)}× the fsync rate`,
    `outbox, 1,000 concurrent appends   ${rate(figures.concurrentPerSecond)}, ${(figures.concurrentPerSecond / figures.fsyncsPerSecond).toFixed(1)}× the fsync rate, ${figures.syncsPerConcurrentBatch.toFixed(1)} disk waits per 1,000`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: tmpdir() },
      seconds: { type: 'string', default: '1' },
      repeat: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '10' },
    },
  });
  const dir = mkdtempSync(join(values.dir, 'custody-outbox-bench-'));
  try {
    const figures = await measureOutboxAppend({
      dir,
      seconds: Number(values.seconds),
      repeat: Number(values.repeat),
      rounds: Number(values.rounds),
    });
    console.log(`in ${values.dir}`);
    console.log(formatFigures(figures));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
