import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openOutbox } from './outbox.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-outbox-crash-');
const AGENT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./testing/outbox-crash-child.ts', import.meta.url));

interface ChildReport {
  /** Appends that resolved, as [counter, id], in the order they resolved. */
  appended: [number, string][];
  /** Acknowledgements that resolved. */
  acked: string[];
}

/** Runs the child until it has reported `appends` resolved appends, then SIGKILLs it. */
function appendUntilKilled(dir: string, round: number, appends: number): Promise<ChildReport> {
  const report: ChildReport = { appended: [], acked: [] };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(round)], {
    cwd: AGENT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let buffered = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, counter, id] = line.split(' ');
      if (kind === 'appended') report.appended.push([Number(counter), id!]);
      if (kind === 'acked') report.acked.push(id!);
    }
    if (report.appended.length >= appends) child.kill('SIGKILL');
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL' || report.appended.length < appends) {
        reject(new Error(`the child stopped on its own (${signal ?? 'exit'}): ${stderr}`));
      } else resolve(report);
    });
  });
}

function counterOf(text: string): [number, number] {
  const match = /^r(\d+):(\d+)/.exec(text);
  if (match === null) throw new Error(`unexpected message text ${text.slice(0, 20)}`);
  return [Number(match[1]), Number(match[2])];
}

describe('the outbox under kill -9', () => {
  it('keeps every append that resolved, in order, and brings back nothing acknowledged', async () => {
    const dir = await tempDir();
    const mustRemain = new Set<string>();
    const mustBeGone = new Set<string>();
    for (const [round, appends] of [
      [1, 500],
      [2, 300],
    ] as const) {
      const report = await appendUntilKilled(dir, round, appends);
      // Nine in ten are acknowledged after their append; the tenth never is.
      for (const [counter, id] of report.appended) if (counter % 10 === 0) mustRemain.add(id);
      for (const id of report.acked) mustBeGone.add(id);

      const outbox = await openOutbox(dir, { maxBytes: 256 * 1024 });
      const pending = outbox.pending();
      const pendingIds = new Set(pending.map((message) => message.id));
      expect(pendingIds.size).toBe(pending.length);
      for (const id of mustRemain) expect(pendingIds.has(id)).toBe(true);
      for (const id of mustBeGone) expect(pendingIds.has(id)).toBe(false);
      const order = pending.map((message) =>
        message.type === 'command-progress' ? counterOf(message.message) : [0, 0],
      );
      const sorted = [...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
      expect(order).toEqual(sorted);
      await outbox.close();
      // The kills land among segment rolls and compactions, not only plain appends.
      const headers = await Promise.all(
        (await readdir(dir)).map(async (name) =>
          (await readFile(join(dir, name), 'utf8')).slice(0, 100),
        ),
      );
      expect(headers.some((header) => header.includes('"base":true'))).toBe(true);
    }
    expect(mustRemain.size).toBeGreaterThanOrEqual(70);
    expect(mustBeGone.size).toBeGreaterThan(600);
  }, 30_000);
});
