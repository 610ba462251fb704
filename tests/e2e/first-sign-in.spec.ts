import { expect, test } from '@playwright/test';
import { startCustody, tabTo } from './support/start-custody.ts';

const PORTS: Record<string, number> = { pglite: 3203, postgresql: 3204 };

/** Tab presses allowed to reach a control on these small forms. */
const TABS = 40;

test('the first administrator signs in with the one-time password, chooses a password and adds a site, all by keyboard', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const port = PORTS[testInfo.project.name];
  if (!port) throw new Error(`no port for project ${testInfo.project.name}`);
  const custody = await startCustody({
    project: testInfo.project.name,
    port,
    dataDirPrefix: 'custody-first-',
  });
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

    await tabTo(page, page.getByLabel('Password'), TABS);
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
    await tabTo(page, page.getByLabel('New owner organisation name'), TABS);
    await page.keyboard.type('Harbour Bakery');
    await tabTo(page, page.getByLabel('First address'), TABS);
    await page.keyboard.type('10.0.0.300');
    await page.keyboard.press('Enter');
    const name = page.getByLabel('Site name');
    await expect(name).toBeFocused();
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByText('Give the site a name.')).toBeVisible();
    await expect(page.getByLabel('First address')).toHaveAttribute('aria-invalid', 'true');

    await page.keyboard.type('Harbour Street');
    await tabTo(page, page.getByLabel('First address'), TABS);
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
