// `npm test`: every suite, on a machine that starts with only Node and npm. Installs the
// workspace, provisions Chromium and a throwaway PostgreSQL cluster, runs each suite, prints
// how many tests each ran, and fails if any suite failed or ran nothing.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium, startPostgres } from './provision.mjs';
import { ROOT, installDependencies, run, say } from './toolchain.mjs';

const REPORTS = join(ROOT, '.cache', 'reports');
const results = [];

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

async function check(name, command, args, options = {}) {
  say(`── ${name}`);
  const started = Date.now();
  const { code } = await run(command, args, options);
  results.push({ name, kind: 'check', ok: code === 0, seconds: (Date.now() - started) / 1000 });
}

async function vitestSuite(name, args, env = {}) {
  say(`── ${name}`);
  const report = join(REPORTS, `${name.replace(/\W+/g, '-')}.json`);
  rmSync(report, { force: true });
  const started = Date.now();
  const { code } = await run(
    'pnpm',
    [
      'exec',
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...args,
    ],
    { env },
  );
  const json = readJson(report);
  const passed = json?.numPassedTests ?? 0;
  const failed = json?.numFailedTests ?? 0;
  const skipped = (json?.numPendingTests ?? 0) + (json?.numTodoTests ?? 0);
  results.push({
    name,
    kind: 'tests',
    ok: code === 0 && json !== null,
    passed,
    failed,
    skipped,
    seconds: (Date.now() - started) / 1000,
  });
}

async function playwrightSuite(name, env) {
  say(`── ${name}`);
  const report = join(REPORTS, 'browser.json');
  rmSync(report, { force: true });
  const started = Date.now();
  const { code } = await run('pnpm', ['--filter', '@custody/tests', 'exec', 'playwright', 'test'], {
    env: { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: report },
  });
  const stats = readJson(report)?.stats;
  const passed = (stats?.expected ?? 0) + (stats?.flaky ?? 0);
  const failed = stats?.unexpected ?? 0;
  const skipped = stats?.skipped ?? 0;
  results.push({
    name,
    kind: 'tests',
    ok: code === 0 && stats != null,
    passed,
    failed,
    skipped,
    seconds: (Date.now() - started) / 1000,
  });
}

function summarise() {
  say('── summary');
  let passed = 0;
  let failed = 0;
  let ok = true;
  for (const result of results) {
    const time = `${result.seconds.toFixed(1)} s`;
    if (result.kind === 'check') {
      console.log(`  ${result.ok ? 'ok  ' : 'FAIL'}  ${result.name.padEnd(28)} ${time}`);
      ok &&= result.ok;
      continue;
    }
    // A suite that ran nothing is a failure: it must never pass by being skipped.
    const ran = result.passed + result.failed;
    const suiteOk = result.ok && result.failed === 0 && ran > 0;
    ok &&= suiteOk;
    passed += result.passed;
    failed += result.failed;
    const counts = `${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`;
    console.log(
      `  ${suiteOk ? 'ok  ' : 'FAIL'}  ${result.name.padEnd(28)} ${counts.padEnd(36)} ${time}${ran === 0 ? '  (ran no tests)' : ''}`,
    );
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  return ok;
}

mkdirSync(REPORTS, { recursive: true });
await installDependencies();
const chromium = await ensureChromium();
const postgres = await startPostgres();
const stopOnSignal = () => {
  void postgres.stop().then(() => process.exit(130));
};
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);

let ok = false;
try {
  await check('typecheck', 'pnpm', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']);
  await check('lint', 'pnpm', ['exec', 'eslint', '--max-warnings=0', '.']);
  await check('format', 'pnpm', ['exec', 'prettier', '--check', '--log-level=warn', '.']);
  // Coverage has a threshold for core only, which core's own tests meet; collecting it in every
  // other project's workers would slow them by a fifth for numbers nobody reads.
  await vitestSuite('core (coverage)', ['--coverage', '--project', 'core']);
  await vitestSuite('unit + PGlite', ['--project', '!core']);
  await vitestSuite('PostgreSQL server', ['--project', '*@postgresql'], {
    CUSTODY_TEST_DATABASE_URL: postgres.url,
  });
  await check('build web', 'pnpm', [
    'turbo',
    'run',
    'build',
    '--filter=@custody/web',
    '--output-logs=errors-only',
  ]);
  await playwrightSuite('browser (Chromium)', {
    CHROMIUM_PATH: chromium,
    CUSTODY_E2E_POSTGRES_URL: postgres.url,
    CUSTODY_E2E_POSTGRES_BIN: postgres.bin ?? '',
  });
  ok = summarise();
} finally {
  await postgres.stop();
}
process.exit(ok ? 0 : 1);
