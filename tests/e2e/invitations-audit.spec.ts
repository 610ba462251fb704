import { expect, test, type Page } from '@playwright/test';
import { startCustody, tabTo } from './support/start-custody.ts';

const PORTS: Record<string, number> = { pglite: 3205, postgresql: 3206 };
const TABS = 60;

async function signInFirstTime(page: Page, url: string, email: string, oneTimePassword: string) {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(oneTimePassword);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/change-password$/);
  await page.getByLabel('Current (one-time) password').fill(oneTimePassword);
  await page.getByLabel('New password', { exact: true }).fill('the admin passphrase');
  await page.getByLabel('New password again').fill('the admin passphrase');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/sites$/);
}

test('an admin invites a technician, who accepts through the link once; the audit log shows it and its chain verifies', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(180_000);
  const port = PORTS[testInfo.project.name];
  if (!port) throw new Error(`no port for project ${testInfo.project.name}`);
  const custody = await startCustody({
    project: testInfo.project.name,
    port,
    dataDirPrefix: 'custody-invite-',
  });
  try {
    await signInFirstTime(page, custody.url, custody.email, custody.oneTimePassword);

    // The admin invites, by keyboard, and is shown the link once.
    await page.getByRole('link', { name: 'Invitations' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Invitations' })).toBeVisible();
    await tabTo(page, page.getByLabel('E-mail address'), TABS);
    await page.keyboard.type('tess@northwind.test');
    await expect(page.getByLabel('Role')).toHaveValue('technician');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Invitation link' })).toBeFocused();
    const link = await page.getByRole('textbox', { name: 'Link', exact: true }).inputValue();
    expect(link).toMatch(new RegExp(`^${custody.url}/invite#[A-Za-z0-9_-]{40,}$`));
    const row = page.getByRole('row', { name: /tess@northwind\.test/ });
    await expect(row).toContainText('Technician');
    await expect(row).toContainText('Waiting');

    // The invitee, in a browser of their own, opens the link: the token leaves the address bar.
    const invitee = await browser.newContext();
    const tab = await invitee.newPage();
    const requests: string[] = [];
    tab.on('request', (request) => requests.push(request.url()));
    await tab.goto(link);
    await expect(tab.getByText(/You are invited to join Integrator as technician/)).toBeVisible();
    await expect(tab).toHaveURL(`${custody.url}/invite`);
    const token = link.split('#')[1] ?? '';
    expect(requests.filter((url) => url.includes(token))).toEqual([]);
    await expect(tab.getByLabel('Your name')).toBeFocused();
    await tab.keyboard.type('Tess Tech');
    await tab.keyboard.press('Tab');
    await tab.keyboard.type('too short');
    await tab.keyboard.press('Tab');
    await tab.keyboard.type('too short');
    await tab.keyboard.press('Enter');
    await expect(tab.getByText('Use at least 12 characters.')).toBeVisible();
    await tab.getByLabel('Password', { exact: true }).fill('tess’s own passphrase');
    await tab.getByLabel('Password again').fill('tess’s own passphrase');
    await tab.getByLabel('Password again').press('Enter');
    await expect(tab).toHaveURL(/\/sites$/);
    await expect(tab.getByText(/Tess Tech/)).toBeVisible();
    await invitee.close();

    // The link worked once.
    const again = await browser.newContext();
    const second = await again.newPage();
    await second.goto(link);
    await expect(second.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
      /already accepted/,
    );
    await again.close();

    await page.reload();
    await expect(page.getByRole('row', { name: /tess@northwind\.test/ })).toContainText('Accepted');

    // The audit log: newest first, and an intact chain.
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
    const actions = page.locator('tbody th[scope="row"]');
    await expect(actions).toContainText([
      'invitation.accepted',
      'invitation.created',
      'auth.password-changed',
      'auth.signed-in',
    ]);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Chain intact' })).toHaveText(
      /Chain intact: \d+ events, head hash [0-9a-f]{64}/,
    );
    await page.getByLabel('Action').fill('invitation.created');
    await page.getByLabel('Action').press('Enter');
    await expect(page).toHaveURL(/action=invitation\.created/);
    await expect(actions).toHaveText(['invitation.created']);
    await page.screenshot({ path: testInfo.outputPath('audit.png'), fullPage: true });
  } finally {
    await custody.stop();
  }
});
