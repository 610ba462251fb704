// `npm start`: install, build the web app when its sources changed, then run Custody
// on http://localhost:3000 with the embedded database in .data/, and the demo.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, installDependencies, run, runOrFail, say } from './toolchain.mjs';

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  if (statSync(dir).isFile()) return statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.next' || entry.name.startsWith('.'))
      continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isBuildCurrent() {
  const buildId = join(ROOT, 'apps', 'web', '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return false;
  const builtAt = statSync(buildId).mtimeMs;
  const sources = ['apps/web', 'packages/core', 'packages/db', 'pnpm-lock.yaml'];
  return sources.every((source) => newestMtime(join(ROOT, source)) < builtAt);
}

await installDependencies();
if (isBuildCurrent()) {
  say('web build is up to date');
} else {
  say('building the web app');
  await runOrFail(
    'pnpm',
    ['turbo', 'run', 'build', '--filter=@custody/web', '--output-logs=errors-only'],
    {
      what: 'building the web app',
    },
  );
}
// The demo (simulated cameras, a local agent, demo users) is on unless CUSTODY_DEMO=0.
const { code } = await run('pnpm', ['--filter', '@custody/web', 'start'], {
  env: {
    CUSTODY_DATA_DIR: process.env.CUSTODY_DATA_DIR ?? join(ROOT, '.data', 'pglite'),
    CUSTODY_DEMO: process.env.CUSTODY_DEMO ?? '1',
    CUSTODY_DEMO_DIR: process.env.CUSTODY_DEMO_DIR ?? join(ROOT, '.data', 'demo'),
  },
});
process.exit(code);
