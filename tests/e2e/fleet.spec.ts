import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '@custody/simulator';
import { expect, test, type Page } from '@playwright/test';
import { ROOT, startCustody, stopGroup, tabTo } from './support/start-custody.ts';

// An integrator's first day, end to end: sign in, add a site, enroll a real agent (the CLI, as
// child processes) against a simulated site, and watch its cameras arrive in the fleet without
// a reload; then filter, search, share the view and open a camera. The spec starts its own
// Custody on an empty database, because the first administrator's one-time password exists
// only in the start banner.
const PORTS: Record<string, number> = { pglite: 3205, postgresql: 3206 };
// A /29 of loopback addresses per project, so the agent's scan finds only this site's cameras.
const SITES: Record<string, { base: string; range: string }> = {
  pglite: { base: '127.95.0.1', range: '127.95.0.0/29' },
  postgresql: { base: '127.96.0.1', range: '127.96.0.0/29' },
};
const PASSWORD = 'fleet day passphrase';
/** Tab presses allowed to reach a control on these longer pages. */
const TABS = 60;

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs the agent CLI from the workspace, as an operator would on the site's machine. */
function agentCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('pnpm', ['--silent', 'custody-agent', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

/** Marks the document; the mark survives client-side navigation and live updates, not a reload. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { custodyNoReload?: boolean }).custodyNoReload = true;
  });
}

async function expectNoReload(page: Page): Promise<void> {
  expect(
    await page.evaluate(
      () => (window as unknown as { custodyNoReload?: boolean }).custodyNoReload === true,
    ),
  ).toBe(true);
}

test('an enrolled agent’s cameras appear live in the fleet, which filters, searches, shares its view and opens a camera', async ({
  page,
  context,
}, testInfo) => {
  test.setTimeout(300_000);
  const project = testInfo.project.name;
  const site = SITES[project];
  if (!site) throw new Error(`no site range for project ${project}`);
  const port = PORTS[project];
  if (!port) throw new Error(`no port for project ${project}`);
  const agentDir = mkdtempSync(join(tmpdir(), 'custody-fleet-agent-'));
  const cameraPort = await freePort(site.base);
  const simulator: Simulator = await createSimulator({
    addressBase: site.base,
    ports: { http: cameraPort },
    timeScale: 100,
    seed: 11,
  });
  const custody = await startCustody({ project, port, dataDirPrefix: 'custody-fleet-' });
  let agent: ChildProcess | undefined;
  try {
    // Three cameras as an integrator inherits them: two configured with passwords nobody
    // documented, one factory-defaulted.
    const inherited = await simulator.addCamera({ firmware: '11.11', model: 'P3265-LVE' });
    const older = await simulator.addCamera({ firmware: '9.80', model: 'M3086-V' });
    const fresh = await simulator.addCamera({ firmware: '12.x', state: 'factory-default' });
    const serials = [inherited.serial, older.serial, fresh.serial];
    const inheritedAddress = inherited.address;
    if (inheritedAddress === undefined) throw new Error('the camera is not listening');

    // Sign in with the one-time password and choose a password, from the keyboard.
    await page.goto(`${custody.url}/sites`);
    await expect(page.getByLabel('E-mail address')).toBeFocused();
    await page.keyboard.type(custody.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(custody.oneTimePassword);
    await page.keyboard.press('Enter');
    await expect(page.getByLabel('Current (one-time) password')).toBeFocused();
    await page.keyboard.type(custody.oneTimePassword);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: 'Sites' })).toBeVisible();

    // A site for a new client.
    await tabTo(page, page.getByLabel('Site name'), TABS);
    await page.keyboard.type('Harbour Street');
    await tabTo(page, page.getByLabel('New owner organisation name'), TABS);
    await page.keyboard.type('Harbour Bakery');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('status').filter({ hasText: 'created' })).toHaveText(
      'Site “Harbour Street” created for Harbour Bakery.',
    );

    // An enrollment token for it, shown once with the command to run.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Agents' })
      .click();
    await expect(page.getByRole('heading', { level: 1, name: 'Agents' })).toBeVisible();
    await expect(page.getByText('No agent is enrolled at your sites yet.')).toBeVisible();
    await expect(page.getByLabel('Site', { exact: true })).toHaveValue(/.+/);
    await tabTo(page, page.getByLabel('Token expires after'), TABS);
    await page.keyboard.press('Tab');
    await expect(page.getByRole('button', { name: 'Create enrollment token' })).toBeFocused();
    await page.keyboard.press('Enter');
    const issuedHeading = page.getByRole('heading', {
      name: 'Enrollment token for Harbour Street',
    });
    await expect(issuedHeading).toBeFocused();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    expect(token).toMatch(/^cenr_/);
    const command = (await page.getByLabel('Enrollment command').textContent())?.trim() ?? '';
    expect(command).toBe(
      `custody-agent enroll --server ${custody.url} --token-env CUSTODY_ENROLL_TOKEN`,
    );
    await page.screenshot({
      path: testInfo.outputPath('enrollment-token.png'),
      fullPage: true,
      // The token is a credential: no screenshot keeps it.
      mask: [page.getByLabel('Token', { exact: true })],
    });

    // The operator runs exactly that command on the site's machine, then starts the agent.
    const agentEnv = {
      HOME: agentDir,
      CUSTODY_AGENT_DATA_DIR: agentDir,
      CUSTODY_AGENT_CIDRS: site.range,
      CUSTODY_AGENT_PORTS: String(cameraPort),
      CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '5',
      CUSTODY_AGENT_REFRESH_INTERVAL_S: '30',
      CUSTODY_AGENT_PROBE_TIMEOUT_S: '2',
    };
    const [program, ...args] = command.split(' ');
    expect(program).toBe('custody-agent');
    const enrolled = await finished(
      agentCli([...args, '--name', 'harbour-gatehouse'], {
        ...agentEnv,
        CUSTODY_ENROLL_TOKEN: token,
      }),
    );
    expect(enrolled.code, enrolled.output).toBe(0);
    expect(enrolled.output).not.toContain(token);
    await page.getByRole('button', { name: 'Done' }).click();

    // Both pages are open before the agent starts: what they show next arrives live.
    const agentsPage = page;
    await markDocument(agentsPage);
    const fleetPage = await context.newPage();
    await fleetPage.goto(`${custody.url}/fleet`);
    await expect(fleetPage.getByRole('heading', { level: 1, name: 'Fleet' })).toBeVisible();
    await expect(fleetPage.getByText('No cameras yet.')).toBeVisible();
    await expect(fleetPage.getByText(/^Live:/)).toBeVisible();
    await expect(agentsPage.getByText(/^Live:/)).toBeVisible();
    await markDocument(fleetPage);

    agent = agentCli(['run'], agentEnv);
    let agentOutput = '';
    agent.stdout?.on('data', (chunk: Buffer) => (agentOutput += chunk.toString()));
    agent.stderr?.on('data', (chunk: Buffer) => (agentOutput += chunk.toString()));

    const agentRow = agentsPage.getByRole('row', { name: /harbour-gatehouse/ });
    await expect(agentRow, agentOutput).toContainText('Online', { timeout: 60_000 });
    await expect(agentRow).toContainText('Harbour Street');
    await expect(agentRow).toContainText('v1');
    await expectNoReload(agentsPage);

    for (const serial of serials) {
      await expect(
        fleetPage.getByRole('row', { name: new RegExp(serial) }),
        agentOutput,
      ).toBeVisible({
        timeout: 60_000,
      });
    }
    await expect(fleetPage.getByText('Showing 1–3 of 3 cameras.')).toBeVisible();
    // Identity is read by the agent's probes; it arrives as further live updates.
    await expect(fleetPage.getByRole('row', { name: new RegExp(inherited.serial) })).toContainText(
      'P3265-LVE',
      { timeout: 60_000 },
    );
    await expect(fleetPage.getByRole('row', { name: new RegExp(fresh.serial) })).toContainText(
      'Needs setup',
      { timeout: 60_000 },
    );
    await expectNoReload(fleetPage);
    await fleetPage.screenshot({ path: testInfo.outputPath('fleet-live.png'), fullPage: true });

    // Filter by access state: the view is in the URL.
    await fleetPage.getByLabel('Access state').selectOption('needs-setup');
    await expect(fleetPage).toHaveURL(/[?&]access=needs-setup/);
    await expect(fleetPage.getByText('Showing 1–1 of 1 camera.')).toBeVisible();
    await expect(fleetPage.getByRole('row', { name: new RegExp(fresh.serial) })).toBeVisible();

    // Search by part of a serial, spelt as a MAC address.
    await fleetPage.getByRole('button', { name: 'Clear filters' }).click();
    await expect(fleetPage.getByText('Showing 1–3 of 3 cameras.')).toBeVisible();
    const search = fleetPage.getByLabel('Search serial, model or product name');
    await search.focus();
    const macFragment = older.serial
      .slice(6)
      .replace(/(..)(?!$)/g, '$1:')
      .toLowerCase();
    await fleetPage.keyboard.type(macFragment);
    await expect(fleetPage).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(macFragment)}`));
    await expect(fleetPage.getByText('Showing 1–1 of 1 camera.')).toBeVisible();
    await expect(fleetPage.getByRole('row', { name: new RegExp(older.serial) })).toBeVisible();

    // Sorted by firmware, newest first, and shared: the link opens the same view.
    await fleetPage.keyboard.press('ControlOrMeta+A');
    await fleetPage.keyboard.press('Backspace');
    await expect(fleetPage.getByText('Showing 1–3 of 3 cameras.')).toBeVisible();
    const firmwareSort = fleetPage.getByRole('button', { name: /^Firmware/ });
    await tabTo(fleetPage, firmwareSort, TABS);
    await fleetPage.keyboard.press('Enter');
    await expect(fleetPage).toHaveURL(/sort=firmware/);
    await fleetPage.keyboard.press('Enter');
    await expect(fleetPage).toHaveURL(/sort=firmware&dir=desc/);
    await expect(fleetPage.getByRole('columnheader', { name: /Firmware/ })).toHaveAttribute(
      'aria-sort',
      'descending',
    );
    const rows = fleetPage.getByRole('table').getByRole('row');
    await expect(rows.nth(1)).toContainText(fresh.serial);
    await expect(rows.nth(3)).toContainText(older.serial);
    const shared = await context.newPage();
    await shared.goto(fleetPage.url());
    await expect(shared.getByRole('table').getByRole('row').nth(1)).toContainText(fresh.serial);
    await expect(shared.getByRole('columnheader', { name: /Firmware/ })).toHaveAttribute(
      'aria-sort',
      'descending',
    );
    await shared.close();

    // Open a camera from the keyboard.
    const link = fleetPage.getByRole('link', { name: inherited.serial });
    await tabTo(fleetPage, link, TABS);
    await fleetPage.keyboard.press('Enter');
    await expect(fleetPage).toHaveURL(new RegExp(`/cameras/${inherited.serial}$`));
    const heading = fleetPage.getByRole('heading', { level: 1 });
    await expect(heading).toContainText(inherited.serial);
    await expect(heading).toBeFocused();
    await expect(
      fleetPage.getByRole('definition').filter({ hasText: 'P3265-LVE' }).first(),
    ).toBeVisible();
    const addresses = fleetPage.getByRole('table');
    await expect(
      addresses.getByRole('rowheader', { name: new RegExp(inheritedAddress) }),
    ).toBeVisible();
    await expect(fleetPage.getByRole('list').filter({ hasText: 'Discovered at' })).toContainText(
      inheritedAddress,
    );
    await expect(fleetPage.getByText('Harbour Bakery')).toBeVisible();
    await expect(fleetPage.getByRole('link', { name: 'harbour-gatehouse' })).toBeVisible();
    await expectNoReload(fleetPage);
    await fleetPage.screenshot({ path: testInfo.outputPath('camera.png'), fullPage: true });

    // Revoking the agent takes effect at once: the row says so and the agent stops.
    await agentsPage.bringToFront();
    const revoke = agentRow.getByRole('button', { name: /^Revoke/ });
    await tabTo(agentsPage, revoke, TABS);
    await agentsPage.keyboard.press('Enter');
    const confirm = agentsPage.getByRole('button', { name: 'Revoke harbour-gatehouse' });
    await expect(confirm).toBeFocused();
    await agentsPage.keyboard.press('Enter');
    await expect(agentRow).toContainText('Revoked');
    await expect(agentsPage.getByRole('status').filter({ hasText: 'is revoked' })).toBeVisible();
    await expect.poll(() => agentOutput, { timeout: 30_000 }).toMatch(/revoked/i);
    await agentsPage.screenshot({ path: testInfo.outputPath('agents.png'), fullPage: true });
  } finally {
    if (agent) await stopGroup(agent);
    await custody.stop();
    await simulator.close();
    rmSync(agentDir, { recursive: true, force: true });
  }
});
