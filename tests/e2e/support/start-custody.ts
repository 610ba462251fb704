import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from '@playwright/test';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface StartedCustody {
  url: string;
  email: string;
  oneTimePassword: string;
  /** Everything the server has written so far (the banner, then e.g. the demo's progress). */
  output(): string;
  stop(): Promise<void>;
}

/** Stops a child started detached: its whole process group (pnpm, tsx, node). */
export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await exited;
}

/**
 * Starts a Custody of its own on an empty database (a fresh PGlite directory, or a fresh database
 * on the test PostgreSQL server), because the first administrator's one-time password exists only
 * in the start banner the server prints once. Resolves with what the banner says.
 */
export async function startCustody(options: {
  project: string;
  port: number;
  dataDirPrefix: string;
  /** More environment for the server, e.g. CUSTODY_DEMO. */
  env?: Record<string, string>;
}): Promise<StartedCustody> {
  const env = {
    ...process.env,
    ...options.env,
    HOST: '127.0.0.1',
    PORT: String(options.port),
  };
  const child: ChildProcess =
    options.project === 'postgresql'
      ? spawn('pnpm', ['exec', 'tsx', 'e2e/serve-on-postgres.ts'], {
          cwd: join(ROOT, 'tests'),
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn('pnpm', ['--silent', '--filter', '@custody/web', 'start'], {
          cwd: ROOT,
          env: { ...env, CUSTODY_DATA_DIR: mkdtempSync(join(tmpdir(), options.dataDirPrefix)) },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let output = '';
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in:\n${output}`)), 120_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/stop:\s+Ctrl\+C/.test(output)) {
          clearTimeout(timer);
          resolve(output);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`Custody exited with ${code}:\n${output}`)));
    });
    const url = /Custody is running at (\S+)/.exec(banner)?.[1];
    const email = /first administrator: (\S+)/.exec(banner)?.[1];
    const oneTimePassword = /one-time password:\s+(\S+)/.exec(banner)?.[1];
    if (!url || !email || !oneTimePassword) throw new Error(`unexpected banner:\n${banner}`);
    return { url, email, oneTimePassword, output: () => output, stop: () => stopGroup(child) };
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
}

/** Presses Tab at most `limit` times until `target` has the focus: the page is used by keyboard. */
export async function tabTo(page: Page, target: Locator, limit: number): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}
