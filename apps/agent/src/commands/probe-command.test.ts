import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.ts';
import { createMemoryIo } from '../testing/memory-io.ts';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('custody-agent probe', () => {
  it('needs exactly one URL', async () => {
    const io = createMemoryIo();
    expect(await runCli(['probe'], io)).toBe(2);
    expect(io.err()).toContain('exactly one camera URL');
  });

  it('refuses credentials inside the URL without echoing them', async () => {
    const io = createMemoryIo();
    expect(await runCli(['probe', 'http://root:s3cret@127.0.0.1/'], io)).toBe(2);
    expect(io.err()).toContain('--password-env');
    expect(io.err()).not.toContain('s3cret');
  });

  it('reads the password only from the named environment variable and says when it is missing', async () => {
    const io = createMemoryIo({ env: {} });
    expect(
      await runCli(['probe', '127.0.0.1', '--username', 'root', '--password-env', 'CAM_PW'], io),
    ).toBe(2);
    expect(io.err()).toContain('CAM_PW is not set');
    const lonely = createMemoryIo();
    expect(await runCli(['probe', '127.0.0.1', '--username', 'root'], lonely)).toBe(2);
    expect(lonely.err()).toContain('--username and --password-env go together');
  });

  it('refuses schemes other than http and https', async () => {
    const io = createMemoryIo();
    expect(await runCli(['probe', 'rtsp://127.0.0.1/axis-media/media.amp'], io)).toBe(2);
    expect(io.err()).toContain('not rtsp');
  });

  it('reports an unreachable camera as an outcome with exit code 0 and the documented JSON shape', async () => {
    const port = await closedPort();
    const io = createMemoryIo({ env: { CAM_PW: 'never-printed' } });
    const code = await runCli(
      [
        'probe',
        `http://127.0.0.1:${port}`,
        '--username',
        'root',
        '--password-env',
        'CAM_PW',
        '--json',
      ],
      io,
    );
    expect(code).toBe(0);
    const report = JSON.parse(io.out()) as Record<string, unknown>;
    expect(report).toMatchObject({
      url: `http://127.0.0.1:${port}/`,
      accessState: 'unreachable',
      identity: null,
      capabilities: [],
    });
    const error = report.error as { code: unknown; message: unknown };
    expect(typeof error.code).toBe('string');
    expect(typeof error.message).toBe('string');
    expect(io.out() + io.err()).not.toContain('never-printed');
  });

  it('prints a human-readable report without --json', async () => {
    const port = await closedPort();
    const io = createMemoryIo();
    expect(await runCli(['probe', `127.0.0.1:${port}`], io)).toBe(0);
    expect(io.out()).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/ {2}unreachable: no answer`),
    );
  });
});
