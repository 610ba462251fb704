import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '@custody/db';
import { runCli } from '../../../apps/agent/src/run-cli.ts';
import { createMemoryIo } from '../../../apps/agent/src/testing/memory-io.ts';
import { createEnrollmentToken } from '../../../apps/web/src/server/gateway/index.ts';

/*
 * The real agent as a site runs it: the release bundle in a process of its own, so that a test
 * or a benchmark can kill it with SIGKILL in the middle of its work and start it again on the
 * same data directory (its outbox, nonce journal and stored results survive, as on a site).
 */

export interface AgentProcessOptions {
  /** The bundle built by apps/agent/build.ts. */
  bundle: string;
  /** The gateway's HTTP base URL, for enrollment. */
  serverUrl: string;
  db: Database;
  siteId: string;
  /** Who created the enrollment token (a user id). */
  createdBy: string;
  /** The agent's own directory (data and HOME). */
  dir: string;
  name: string;
  /** The range and port it scans, e.g. 127.120.0.0/25 and 40123. */
  cidr: string;
  port: number;
  /** More environment (CUSTODY_AGENT_MAX_COMMANDS, …). */
  env?: Record<string, string>;
}

export interface AgentProcess {
  readonly agentId: string;
  readonly running: boolean;
  /** The running process's id, if it runs. */
  readonly pid: number | undefined;
  /** Everything it printed, over every run (also appended to `<dir>/agent.log`). */
  log(): string;
  /** Exits nobody asked for (not through `kill` or `stop`), with the exit code or signal. */
  readonly unexpectedExits: readonly string[];
  start(): void;
  /** SIGKILL: no grace, no goodbye; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, as systemd stops it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Enrolls an agent for `siteId` (through the gateway, with a fresh token), not yet started. */
export async function enrollAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const dataDir = join(options.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.dir,
    CUSTODY_AGENT_DATA_DIR: dataDir,
    CUSTODY_AGENT_CIDRS: options.cidr,
    CUSTODY_AGENT_PORTS: String(options.port),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '30',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
    CUSTODY_AGENT_STOP_GRACE_S: '1',
    ...options.env,
  };
  const { token } = await createEnrollmentToken(options.db, {
    siteId: options.siteId,
    createdBy: options.createdBy,
    ttlMs: 60_000,
  });
  const io = createMemoryIo({ env: { ...env, ENROLL_TOKEN: token } });
  const code = await runCli(
    [
      'enroll',
      '--server',
      options.serverUrl,
      '--token-env',
      'ENROLL_TOKEN',
      '--name',
      options.name,
    ],
    io,
  );
  if (code !== 0) throw new Error(`agent enroll failed: ${io.err()}`);
  const agentId = /agent ([0-9a-f-]{36})/.exec(io.out())?.[1];
  if (agentId === undefined) throw new Error(`agent enroll printed no id: ${io.out()}`);

  let child: ChildProcess | undefined;
  let log = '';
  let expectingExit = false;
  const unexpectedExits: string[] = [];
  const file = createWriteStream(join(options.dir, 'agent.log'), { flags: 'a' });
  const isRunning = () =>
    child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    agentId,
    get running() {
      return isRunning();
    },
    get pid() {
      return isRunning() ? child?.pid : undefined;
    },
    log: () => log,
    unexpectedExits,
    start() {
      if (isRunning()) throw new Error(`agent ${options.name} is already running`);
      expectingExit = false;
      const started = spawn(process.execPath, [options.bundle, 'run'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        log += chunk.toString();
        file.write(chunk);
      };
      started.stdout?.on('data', keep);
      started.stderr?.on('data', keep);
      started.once('exit', (code, signal) => {
        if (!expectingExit) unexpectedExits.push(signal ?? `exit code ${code}`);
      });
      child = started;
    },
    async kill() {
      if (!child) return;
      expectingExit = true;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      if (!child) return null;
      expectingExit = true;
      const done = exited(child);
      child.kill('SIGTERM');
      return done;
    },
  };
}
