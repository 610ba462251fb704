import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJson, postJson } from './test-support/vapix-request.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(packageDir, 'bin', 'custody-sim.js');

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

function runCli(
  args: string[],
  onReady?: (stdout: string, stop: () => void) => Promise<void>,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let readySeen = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`custody-sim did not finish:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (!readySeen && stdout.includes('Ready.') && onReady) {
        readySeen = true;
        onReady(stdout, () => child.kill('SIGTERM')).catch((error: unknown) => {
          child.kill('SIGKILL');
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

describe('custody-sim', () => {
  it('starts the example site, prints URLs and serials but no password, and stops on SIGTERM', async () => {
    let answered: Record<string, unknown> | undefined;
    const run = await runCli(['examples/demo-site.json'], async (stdout, stop) => {
      const url = /^B8A44F631339 .*?(http:\/\/\S+)/m.exec(stdout)?.[1] ?? '';
      answered = parseJson(
        await postJson(url, '/axis-cgi/systemready.cgi', {
          apiVersion: '1',
          method: 'systemready',
        }),
      );
      stop();
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Starting Demo site: Harbour warehouse: 12 cameras');
    expect(run.stdout).toMatch(/^00408CFB6888 {2}5\.51 /m);
    expect(run.stdout).toMatch(/Control API: http:\/\/127\.0\.0\.1:\d+\/cameras/);
    expect(run.stdout).not.toContain('demo-Harbour-2026');
    expect(run.stdout).toContain('Stopped.');
    expect(answered).toMatchObject({ apiVersion: '1.5', data: { systemready: 'yes' } });
  });

  it('rejects a bad site file with every problem and its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custody-sim-'));
    try {
      const file = join(dir, 'bad-site.json');
      await writeFile(
        file,
        JSON.stringify({
          cameras: [
            { firmware: '13.0', count: 0 },
            { firmware: '12.x', serial: 'nope' },
          ],
        }),
      );
      const run = await runCli([file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('is not a valid site description');
      expect(run.stderr).toContain('cameras[0].firmware');
      expect(run.stderr).toContain('cameras[0].count');
      expect(run.stderr).toContain('cameras[1].serial');
      expect(run.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says so when the file is not JSON or is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custody-sim-'));
    try {
      const file = join(dir, 'site.json');
      await writeFile(file, '{ "cameras": [');
      const notJson = await runCli([file]);
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toContain('is not valid JSON');
      const missing = await runCli([join(dir, 'missing.json')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('ENOENT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
