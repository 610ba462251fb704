import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Locator, type Page } from '@playwright/test';

// This spec starts its own Custody on an empty database, because the first administrator's
// one-time password exists only in the start banner that the server prints once.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PORTS: Record<string, number> = { pglite: 3203, postgresql: 3204 };

interface StartedCustody {
  url: string;
  email: string;
  oneTimePassword: string;
  stop(): Promise<void>;
}

async function startCustody(project: string): Promise<StartedCustody> {
  const port = PORTS[project];
  if (!port) throw new Error(`no port for project ${project}`);
  const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port) };
  const child: ChildProcess =
    project === 'postgresql'
      ? spawn('pnpm', ['exec', 'tsx', 'e2e/serve-on-postgres.ts'], {
          cwd: join(ROOT, 'tests'),
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn('pnpm', ['--silent', '--filter', '@custody/web', 'start'], {
          cwd: ROOT,
          env: { ...env, CUSTODY_DATA_DIR: mkdtempSync(join(tmpdir(), 'custody-first-')) },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  };
  let output = '';
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in:\n${output}`)), 120_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/stop:\s+Ctrl\+C/.test(output)) {
          clearTimeout(timer);
          resolve(output);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`Custody exited with ${code}:\n${output}`)));
    });
    const url = /Custody is running at (\S+)/.exec(banner)?.[1];
    const email = /first administrator: (\S+)/.exec(banner)?.[1];
    const oneTimePassword = /one-time password:\s+(\S+)/.exec(banner)?.[1];
    if (!url || !email || !oneTimePassword) throw new Error(`unexpected banner:\n${banner}`);
    return { url, email, oneTimePassword, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Presses Tab until `target` has the focus: the page is used from the keyboard alone. */
async function tabTo(page: Page, target: Locator, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

test('the first administrator signs in with the one-time password, chooses a password and adds a site, all by keyboard', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const custody = await startCustody(testInfo.project.name);
  try {
    await page.goto(`${custody.url}/sites`);
    await expect(page).toHaveURL(/\/sign-in$/);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

    await expect(page.getByLabel('E-mail address')).toBeFocused();
    await page.keyboard.type(custody.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    // Next's route announcer is an alert too; the form's own message is the one with text.
    await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
      'The e-mail address or the password is not correct.',
    );

    await tabTo(page, page.getByLabel('Password'));
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(custody.oneTimePassword);
    await page.keyboard.press('Enter');

    await expect(page).toHaveURL(/\/change-password$/);
    await expect(page.getByRole('heading', { name: 'Choose your password' })).toBeVisible();
    await expect(page.getByLabel('Current (one-time) password')).toBeFocused();
    await page.keyboard.type(custody.oneTimePassword);
    await page.keyboard.press('Tab');
    await page.keyboard.type('my own long passphrase');
    await page.keyboard.press('Tab');
    await page.keyboard.type('my own long passphrase');
    await page.keyboard.press('Enter');

    await expect(page).toHaveURL(/\/sites$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Sites' })).toBeVisible();
    await expect(page.getByText('No sites yet.')).toBeVisible();

    // Submitted without a name and with a bad DHCP address, the server's errors land on the
    // fields, and the keyboard is taken to the first one.
    await tabTo(page, page.getByLabel('New owner organisation name'));
    await page.keyboard.type('Harbour Bakery');
    await tabTo(page, page.getByLabel('First address'));
    await page.keyboard.type('10.0.0.300');
    await page.keyboard.press('Enter');
    const name = page.getByLabel('Site name');
    await expect(name).toBeFocused();
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByText('Give the site a name.')).toBeVisible();
    await expect(page.getByLabel('First address')).toHaveAttribute('aria-invalid', 'true');

    await page.keyboard.type('Harbour Street');
    await tabTo(page, page.getByLabel('First address'));
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('10.0.0.100');
    await page.keyboard.press('Tab');
    await page.keyboard.type('10.0.0.199');
    await page.keyboard.press('Enter');

    await expect(page.getByRole('status').filter({ hasText: 'created' })).toHaveText(
      'Site “Harbour Street” created for Harbour Bakery.',
    );
    const row = page.getByRole('row', { name: /Harbour Street/ });
    await expect(row).toContainText('Harbour Bakery');
    await expect(row).toContainText('10.0.0.100 – 10.0.0.199');
    await page.screenshot({ path: testInfo.outputPath('sites.png'), fullPage: true });

    await page.reload();
    await expect(page.getByRole('row', { name: /Harbour Street/ })).toBeVisible();
  } finally {
    await custody.stop();
  }
});
