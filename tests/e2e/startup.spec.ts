import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

test('a second Custody on a taken port stops with a clear message and leaves its data directory alone', async ({
  baseURL,
}) => {
  const { hostname, port } = new URL(baseURL ?? '');
  const dataDir = join(mkdtempSync(join(tmpdir(), 'custody-second-')), 'pglite');
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(
      'pnpm',
      ['--silent', '--filter', '@custody/web', 'start'],
      {
        cwd: root,
        env: { ...process.env, HOST: hostname, PORT: port, CUSTODY_DATA_DIR: dataDir },
        timeout: 60_000,
      },
      (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`${hostname}:${port} is already in use`);
  expect(() => readdirSync(dataDir)).toThrow();
});
