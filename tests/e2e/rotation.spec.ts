import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startCustody, type StartedCustody } from './support/start-custody.ts';

// Bulk credential rotation in the browser, against the real server, its demo site (simulated
// cameras and a real agent) and a database of its own. The integrator admin rotates the
// administrator password of every camera of the demo site whose password Custody holds, with a
// canary of one, and watches the job complete on its page without reloading it.
const PORT = 3209;
/** The demo's camera whose admin password the site's records (its simulator file) know. */
const DOCUMENTED = 'B8A44F631339';
const RECORDED_PASSWORD = 'demo-Harbour-2026';
const DEMO_SITE = 'Demo site: Harbour warehouse';

let custody: StartedCustody | undefined;
let demoDir: string | undefined;

function adminOf(output: string): { email: string; password: string } {
  const match = /^\s+integrator-admin\s+(demo-\S+@custody\.local)\s+(\S+)\s+\(/m.exec(output);
  if (!match?.[1] || !match[2]) throw new Error(`no demo integrator admin in:\n${output}`);
  return { email: match[1], password: match[2] };
}

/** A tRPC call from the page, as the page's own client makes it (same origin, its cookies). */
async function trpc<T>(
  page: Page,
  kind: 'query' | 'mutation',
  path: string,
  input: unknown,
): Promise<T> {
  const { status, body } = await page.evaluate(
    async ({ kind, path, input }) => {
      const encoded = JSON.stringify({ json: input });
      const response =
        kind === 'query'
          ? await fetch(`/api/trpc/${path}?input=${encodeURIComponent(encoded)}`)
          : await fetch(`/api/trpc/${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: encoded,
            });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    { kind, path, input },
  );
  if (status !== 200) throw new Error(`${path}: HTTP ${status} ${JSON.stringify(body)}`);
  return (body as { result: { data: { json: T } } }).result.data.json;
}

interface CaseSnapshot {
  status: string;
  triage: { path: string } | null;
  can: Record<string, boolean>;
}

/**
 * Custody comes to hold the camera's admin password the ordinary way: a credential clean-up case
 * with the password from the site's records, provisioned, verified and handed over (closed), so
 * that no open case keeps it out of a rotation. Driven through the API the case page uses.
 */
async function documentCamera(page: Page, serial: string) {
  await expect
    .poll(
      async () => {
        try {
          await trpc(page, 'query', 'cameras.get', { serial });
          return 'reported';
        } catch {
          return 'not yet';
        }
      },
      { timeout: 90_000, intervals: [1_000] },
    )
    .toBe('reported');
  const { caseId } = await trpc<{ caseId: string }>(page, 'mutation', 'cases.open', { serial });
  const view = () => trpc<CaseSnapshot>(page, 'query', 'cases.get', { caseId });
  await trpc(page, 'mutation', 'cases.addCandidate', {
    caseId,
    username: 'root',
    password: RECORDED_PASSWORD,
    source: 'the site’s records',
  });
  await trpc(page, 'mutation', 'cases.runAccessCheck', { caseId });
  await expect
    .poll(async () => (await view()).triage?.path ?? 'pending', { timeout: 60_000 })
    .toBe('credential-cleanup');
  await trpc(page, 'mutation', 'cases.savePlan', { caseId, vmsPlatform: 'AXIS Camera Station' });
  await trpc(page, 'mutation', 'cases.startCleanup', { caseId });
  await expect
    .poll(async () => (await view()).can['confirm-vms'] === true, { timeout: 90_000 })
    .toBe(true);
  await trpc(page, 'mutation', 'cases.confirmVms', { caseId, platform: 'AXIS Camera Station' });
  await expect.poll(async () => (await view()).status, { timeout: 90_000 }).toBe('verified');
  await trpc(page, 'mutation', 'handover.confirm', { caseId });
  await expect.poll(async () => (await view()).status).toBe('documented');
}

test.beforeAll(async ({ browser: _browser }, testInfo) => {
  testInfo.setTimeout(240_000);
  demoDir = mkdtempSync(join(tmpdir(), 'custody-rotation-demo-'));
  custody = await startCustody({
    project: testInfo.project.name,
    port: PORT,
    dataDirPrefix: 'custody-rotation-',
    env: { CUSTODY_DEMO: '1', CUSTODY_DEMO_DIR: demoDir },
  });
});

test.afterAll(async () => {
  await custody?.stop();
  if (demoDir) rmSync(demoDir, { recursive: true, force: true });
});

test('an integrator admin rotates the demo site’s documented admin passwords, canary first, and watches the job complete live', async ({
  browser,
}, testInfo) => {
  test.setTimeout(360_000);
  if (!custody) throw new Error('Custody is not running');
  const admin = adminOf(custody.output());
  const context = await browser.newContext({ baseURL: custody.url });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('E-mail address').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.keyboard.press('Enter');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeVisible();

  await documentCamera(page, DOCUMENTED);

  // The new rotation: the demo site, a canary of one; the preview names what is left out.
  await nav.getByRole('link', { name: 'Rotations' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Credential rotations' })).toBeVisible();
  const form = page.getByRole('form', { name: 'New rotation' });
  await form.getByRole('checkbox', { name: DEMO_SITE }).check();
  await expect(form.getByLabel('Account')).toHaveValue('admin');
  await form.getByLabel('Canary size').fill('1');
  await expect(form.getByText('1 camera will rotate, all in the canary batch.')).toBeVisible();
  const left = form.getByRole('table', { name: 'Skipped cameras, and why' });
  await expect(left.getByRole('row', { name: /ACCC8E5E0A10/ })).toContainText(
    'no active vaulted password for this account',
  );
  await expect(left.getByRole('row', { name: new RegExp(DOCUMENTED) })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('1-new-rotation.png'), fullPage: true });
  await form.getByRole('button', { name: 'Start rotation' }).click();

  // The job page follows the job by itself: no reload between the start and the end.
  await expect(page).toHaveURL(/\/rotations\/[0-9a-f-]{36}$/);
  await page.evaluate(() => {
    (window as unknown as { custodyNoReload?: boolean }).custodyNoReload = true;
  });
  const heading = page.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText(/^Rotation of the administrator account: (Running|Completed)$/);
  await expect(heading).toHaveText('Rotation of the administrator account: Completed', {
    timeout: 120_000,
  });
  expect(
    await page.evaluate(
      () => (window as unknown as { custodyNoReload?: boolean }).custodyNoReload === true,
    ),
  ).toBe(true);
  await expect(page.getByRole('status').filter({ hasText: 'This job has ended' })).toBeVisible();
  const progress = page.getByRole('progressbar', { name: 'Cameras done' });
  await expect(progress).toHaveAttribute('value', '1');
  await expect(progress).toHaveAttribute('max', '1');
  await expect(page.getByText('1 of 1 (100%)')).toBeVisible();
  const waves = page.getByRole('table', { name: 'Waves (the canary first)' });
  await expect(waves.getByRole('row', { name: /^Canary/ })).toBeVisible();
  const items = page.getByRole('region', { name: 'Cameras', exact: true });
  await expect(items.getByRole('row', { name: new RegExp(DOCUMENTED) })).toContainText('Rotated');
  // A finished job offers nothing to pause, resume, cancel or retry.
  await expect(page.getByRole('button', { name: /Pause|Resume|Cancel|Retry/ })).toHaveCount(0);
  const leftOut = page.getByRole('region', { name: /^Left out at the start/ });
  await expect(leftOut.getByRole('row', { name: /ACCC8E5E0A10/ })).toContainText(
    'no active vaulted password',
  );
  await page.screenshot({ path: testInfo.outputPath('2-job-completed.png'), fullPage: true });

  // The camera's vault: a new active version of the admin password, the previous one retired.
  await items.getByRole('link', { name: DOCUMENTED }).click();
  await expect(page).toHaveURL(new RegExp(`/cameras/${DOCUMENTED}$`));
  const adminVersions = page.getByRole('group', { name: 'Administrator account' });
  await expect(adminVersions.getByRole('row', { name: /^2 root/ })).toContainText('Active');
  await expect(adminVersions.getByRole('row', { name: /^1 root/ })).toContainText('Retired');
  await page.screenshot({ path: testInfo.outputPath('3-camera-credentials.png'), fullPage: true });
  await context.close();
});
