import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startCustody } from './support/start-custody.ts';

// The owner's auditor reads the fleet documentation audit of the demo site (simulated cameras
// reported by a real agent, as `npm start` runs them): the counts, the cameras behind one, the
// CSV export and the printable report. Read-only: no settings form, no snapshot button.
const PORT = 3211;
/** The demo camera left in factory default. */
const FACTORY_DEFAULT = 'ACCC8E5E0A10';

test('an auditor opens the fleet audit, drills into a count, downloads the CSV and prints the report', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const demoDir = mkdtempSync(join(tmpdir(), 'custody-audit-demo-'));
  const custody = await startCustody({
    project: 'pglite',
    port: PORT,
    dataDirPrefix: 'custody-audit-',
    env: { CUSTODY_DEMO: '1', CUSTODY_DEMO_DIR: demoDir },
  });
  try {
    const auditor = /^\s+auditor\s+(demo-\S+@custody\.local)\s+(\S+)\s+\(/m.exec(custody.output());
    if (!auditor?.[1] || !auditor[2]) throw new Error(`no demo auditor in:\n${custody.output()}`);

    await page.goto(`${custody.url}/sign-in`);
    await page.getByLabel('E-mail address').fill(auditor[1]);
    await page.getByLabel('Password').fill(auditor[2]);
    await page.keyboard.press('Enter');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Fleet audit' }).click();
    await expect(
      page.getByRole('heading', { level: 1, name: 'Fleet documentation audit' }),
    ).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Fleet audit' })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await expect(nav.getByRole('link', { name: 'Fleet', exact: true })).not.toHaveAttribute(
      'aria-current',
      'page',
    );

    // The agent reports the demo's twelve cameras and probes them within a minute or two.
    const counts = page.getByRole('table', { name: /Cameras with each finding/ });
    const fleetRow = counts.getByRole('row', { name: /^Fleet-wide/ });
    let header: string[] = [];
    await expect(async () => {
      await page.reload();
      await expect(fleetRow).toBeVisible({ timeout: 5_000 });
      header = await counts.getByRole('columnheader').allTextContents();
      const cells = await fleetRow.locator('th, td').allTextContents();
      expect(cells[header.indexOf('Cameras')]).toBe('12');
      expect(cells[header.indexOf('Factory default')]).toBe('1');
    }).toPass({ timeout: 180_000, intervals: [2_000] });
    await expect(counts.getByRole('row', { name: /Demo site: Harbour warehouse/ })).toBeVisible();
    // Nothing is documented yet: every camera lacks an owner record and a vaulted credential.
    await expect(fleetRow.locator('th, td').nth(header.indexOf('No owner record'))).toHaveText(
      '12',
    );
    await expect(
      fleetRow.locator('th, td').nth(header.indexOf('No documented credential')),
    ).toHaveText('12');

    // The factory-default count opens the camera behind it, with what to do about it.
    await fleetRow
      .locator('th, td')
      .nth(header.indexOf('Factory default'))
      .getByRole('link')
      .click();
    await expect(page).toHaveURL(/finding=factory-default/);
    await expect(page.getByRole('heading', { level: 2, name: 'Factory default' })).toBeVisible();
    await expect(page.getByText(/Recommission it now/).first()).toBeVisible();
    const cameras = page.getByRole('table', { name: 'Cameras with findings' });
    await expect(cameras.getByRole('row')).toHaveCount(2);
    await expect(cameras.getByRole('row', { name: new RegExp(FACTORY_DEFAULT) })).toBeVisible();

    // Read-only: the settings are shown, not offered for change, and there is no snapshot button.
    await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Save settings' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Take a snapshot now' })).toHaveCount(0);

    await expect(page.getByRole('link', { name: 'Download these cameras as CSV' })).toHaveAttribute(
      'href',
      /finding=factory-default/,
    );

    // The page's own download is the whole audit, whatever the drill-down shows.
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'CSV (cameras)' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(
      /^fleet-audit-fleet-cameras-\d{4}-\d{2}-\d{2}\.csv$/,
    );
    const csv = readFileSync((await download.path()) ?? '', 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^"site","site_id","serial","model","firmware",/);
    expect(lines.filter((line) => line.includes(`"${FACTORY_DEFAULT}"`))).toHaveLength(1);
    expect(lines.find((line) => line.includes(FACTORY_DEFAULT))).toContain('Factory default');
    expect(lines).toHaveLength(13);

    await page.getByRole('link', { name: 'Print report' }).click();
    await expect(page).toHaveURL(/\/fleet-audit\/report/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(
      'Fleet documentation audit: Demo Owner',
    );
    const overall = page.getByRole('region', { name: 'Findings fleet-wide' });
    await expect(overall.getByRole('row', { name: /^Factory default 1/ })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Print' })).toBeVisible();
    await page.emulateMedia({ media: 'print' });
    await expect(nav).toBeHidden();
    await expect(page.getByRole('button', { name: 'Print' })).toBeHidden();
    await expect(overall).toBeVisible();
  } finally {
    await custody.stop();
    rmSync(demoDir, { recursive: true, force: true });
  }
});
