// Provisions what the test suites need beyond npm packages: Chromium for the browser suite
// and a throwaway PostgreSQL cluster on a loopback port. Where it cannot, it stops and says
// exactly what to install.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, runOrFail, say } from './toolchain.mjs';

const isRoot = process.getuid?.() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
let aptUpdated = false;

async function aptInstall(packages, why) {
  if (!isRoot || !hasApt) {
    const how = hasApt
      ? `sudo apt-get install -y ${packages.join(' ')}`
      : `install ${packages.join(' ')} with your package manager`;
    fail(`${why} is missing. Install it, then run the tests again:\n\n    ${how}\n`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    say('apt-get update');
    await runOrFail('apt-get', ['update', '-q'], { quiet: true, env, what: 'apt-get update' });
    aptUpdated = true;
  }
  say(`apt-get install ${packages.join(' ')} (${why})`);
  await runOrFail('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    quiet: true,
    env,
    what: `apt-get install ${packages.join(' ')}`,
  });
}

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/** Returns the path of a Chromium binary, installing Debian's package when it can. */
export async function ensureChromium() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) fail(`CHROMIUM_PATH=${configured} does not exist.`);
    return configured;
  }
  let found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    await aptInstall(['chromium'], 'Chromium (for the browser suite)');
    found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
    if (!found) fail('Chromium was installed but no binary was found; set CHROMIUM_PATH.');
  }
  return found;
}

function findPostgresBinDir() {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .map(Number)
      .filter(
        (version) => version >= 15 && existsSync(join(base, String(version), 'bin', 'initdb')),
      )
      .sort((a, b) => b - a);
    if (versions.length > 0) return join(base, String(versions[0]), 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return path ? path.replace(/\/initdb$/, '') : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 (or uses CUSTODY_TEST_DATABASE_URL when set).
 * Resolves with `{ url, stop }`; the URL points at a role that may create databases.
 */
export async function startPostgres() {
  if (process.env.CUSTODY_TEST_DATABASE_URL) {
    say('using the PostgreSQL server from CUSTODY_TEST_DATABASE_URL');
    return {
      url: process.env.CUSTODY_TEST_DATABASE_URL,
      bin: findPostgresBinDir(),
      stop: async () => {},
    };
  }
  let bin = findPostgresBinDir();
  if (!bin) {
    await aptInstall(['postgresql'], 'A PostgreSQL 15+ server (for the PostgreSQL suite)');
    bin = findPostgresBinDir();
    if (!bin) fail('PostgreSQL was installed but initdb was not found.');
  }
  const dir = mkdtempSync(join(tmpdir(), 'custody-pg-'));
  // The server binaries refuse to run as root, so root hands the cluster to the postgres user.
  const asOwner = (command, args) =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  if (isRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0)
      fail('Running as root, but there is no "postgres" user to own the test cluster.');
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const port = await freePort();
  const data = join(dir, 'data');
  say(`starting a throwaway PostgreSQL cluster (${bin}) on 127.0.0.1:${port}`);
  await runOrFail(
    ...asOwner(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'custody',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]),
    { quiet: true, what: 'initdb' },
  );
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
  ].join(' ');
  await runOrFail(
    ...asOwner(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      options,
      '-l',
      join(dir, 'server.log'),
      '-w',
      'start',
    ]),
    {
      quiet: true,
      what: 'pg_ctl start',
    },
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    spawnSync(...asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']), {
      stdio: 'ignore',
    });
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `postgres://custody@127.0.0.1:${port}/postgres`, bin, port, stop };
}
