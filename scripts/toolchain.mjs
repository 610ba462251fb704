// Shared by the README's two commands: everything here uses only Node and npm, because
// a fresh machine has nothing else. pnpm is installed into .cache/tools, never globally.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.cache', 'tools');
const PNPM_VERSION = JSON.parse(
  readFileSync(join(ROOT, 'package.json'), 'utf8'),
).packageManager.split('@')[1];

export const baseEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  PATH: `${join(TOOLS, 'node_modules', '.bin')}:${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
};

export function say(message) {
  process.stdout.write(`\x1b[1m[custody]\x1b[0m ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`\n\x1b[31m[custody] ${message}\x1b[0m\n`);
  process.exit(1);
}

/** Runs a command with inherited output; resolves with its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env: { ...baseEnv, ...options.env },
    });
    let output = '';
    if (options.quiet) {
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

export async function runOrFail(command, args, options = {}) {
  const { code, output } = await run(command, args, options);
  if (code !== 0) {
    if (options.quiet) process.stderr.write(output);
    fail(`${options.what ?? `${command} ${args.join(' ')}`} failed (exit ${code}).`);
  }
  return output;
}

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Custody needs Node.js 20.19 or newer; this is ${process.version}.`);
  }
}

/** Installs the pinned pnpm locally (once) and the workspace's dependencies. */
export async function installDependencies() {
  checkNode();
  const pnpmPackage = join(TOOLS, 'node_modules', 'pnpm', 'package.json');
  const installed = existsSync(pnpmPackage)
    ? JSON.parse(readFileSync(pnpmPackage, 'utf8')).version
    : null;
  if (installed !== PNPM_VERSION) {
    say(`installing pnpm ${PNPM_VERSION} into .cache/tools`);
    await runOrFail(
      'npm',
      [
        'install',
        '--prefix',
        TOOLS,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        `pnpm@${PNPM_VERSION}`,
      ],
      { quiet: true, what: 'installing pnpm' },
    );
  }
  say('installing dependencies (pnpm install --frozen-lockfile)');
  await runOrFail('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], {
    what: 'pnpm install',
  });
}
