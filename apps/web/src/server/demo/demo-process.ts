import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

const EXIT_WITH_PARENT = new URL('./exit-with-parent.ts', import.meta.url).href;
const TAIL_LINES = 20;

export interface DemoProcessOptions {
  /** Arguments to node, after the TypeScript loader: a script and its arguments. */
  args: readonly string[];
  cwd: string;
  /** The whole environment: the web server's own (its secrets) is not handed down. */
  env: Readonly<Record<string, string>>;
  /** Where stdout and stderr are appended. */
  logFile: string;
  /** Each line the process writes to stdout. */
  onLine?: (line: string) => void;
}

export interface DemoProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DemoProcess {
  readonly exited: Promise<DemoProcessExit>;
  /** The last lines it wrote (stdout and stderr), for an error message. */
  tail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<void>;
}

/** The TypeScript loader the web server itself runs under (tsx), as an --import specifier. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/**
 * Runs a TypeScript entry point of the repository in a child Node process: the demo's CPU
 * stays out of the web process, and a crash on either side does not take the other down. The
 * child gets an IPC channel only to notice when the web server is gone (see exit-with-parent.ts);
 * it runs in a process group of its own, so Ctrl+C reaches the web server alone, which stops
 * the children in order.
 */
export async function startDemoProcess(options: DemoProcessOptions): Promise<DemoProcess> {
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.write(
    `--- ${new Date().toISOString()} ${options.args.map((arg) => basename(arg)).join(' ')}\n`,
  );
  const child = spawn(
    process.execPath,
    ['--import', tsxLoader(), '--import', EXIT_WITH_PARENT, ...options.args],
    {
      cwd: options.cwd,
      // Next's types declare NODE_ENV always set; the children are not Next and need none.
      env: options.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    },
  );
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const splitLines = (onLine: (line: string) => void) => {
    let pending = '';
    return (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
  };
  // Always there: both are pipes.
  child.stdout?.on(
    'data',
    splitLines((line) => {
      remember(line);
      options.onLine?.(line);
    }),
  );
  child.stderr?.on('data', splitLines(remember));
  const exited = new Promise<DemoProcessExit>((resolve) => {
    child.once('error', (error) => {
      remember(`cannot start: ${error.message}`);
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => log.end());
  // The channel is only there to close when this process ends; it must not keep it running.
  child.channel?.unref();
  return {
    exited,
    tail: () => [...tail],
    async stop(graceMs) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
