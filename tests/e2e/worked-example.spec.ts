import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { startCustody, type StartedCustody } from './support/start-custody.ts';

// The worked example, in two browsers against the real server, its demo site (simulated cameras
// and a real agent, as `npm start` runs them) and a database of its own: a small business took
// over an AXIS camera whose previous installer left no usable admin credentials. The technician
// triages it, the owner's approver proves ownership and approves the reset, the technician works
// the control button, Custody recommissions and verifies the camera, and the handover documents
// it with credential references only. The second test is the bypass attempt: a technician cannot
// approve their own request, in the page or through the API.
const PORTS: Record<string, number> = { pglite: 3207, postgresql: 3208 };
/** The demo's inherited camera: configured, its admin password known to nobody at Custody. */
const INHERITED = 'B8A44F631339';
/** From "the previous installer's notes": wrong, as such notes are. */
const NOTES_PASSWORD = 'Installer-Notes-Osprey-4410';
const VMS = 'AXIS Camera Station';

interface DemoUser {
  email: string;
  password: string;
}

interface Started {
  custody: StartedCustody;
  demoDir: string;
  users: Record<string, DemoUser>;
  /** The simulator's control API, e.g. http://127.0.0.1:40000/cameras. */
  controlUrl: string;
}

let started: Started | undefined;

function demoUsers(output: string): Record<string, DemoUser> {
  const users: Record<string, DemoUser> = {};
  for (const match of output.matchAll(/^\s+(\S+)\s+(demo-\S+@custody\.local)\s+(\S+)\s+\(/gm)) {
    const [, role, email, password] = match;
    if (role && email && password) users[role] = { email, password };
  }
  return users;
}

function userOf(role: string): DemoUser {
  const user = started?.users[role];
  if (!user) throw new Error(`no demo user for ${role}`);
  return user;
}

async function waitForOutput(custody: StartedCustody, pattern: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(custody.output());
    if (match) return match;
    if (Date.now() > deadline)
      throw new Error(`${pattern} never appeared in:\n${custody.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function signIn(
  browser: Browser,
  role: string,
): Promise<{ context: BrowserContext; page: Page }> {
  if (!started) throw new Error('Custody is not running');
  const user = userOf(role);
  const context = await browser.newContext({ baseURL: started.custody.url });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('E-mail address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  return { context, page };
}

/** A tRPC call from the page, as the page's own client makes it (same origin, its cookies). */
async function trpc(
  page: Page,
  kind: 'query' | 'mutation',
  path: string,
  input: unknown,
): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
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
}

/** tRPC's result data (superjson puts it under `json`). */
function dataOf<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

/** A small, well-formed PDF: the owner's scanned invoice. */
function invoicePdf(): Buffer {
  const text = 'Invoice 2019-0417: AXIS camera, serial B8A44F631339, sold to Harbour Bakery';
  const content = `BT /F1 11 Tf 50 780 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Works the camera's power and control button on the simulated site, as a person on site. */
async function holdControlButton(serial: string, seconds: number): Promise<void> {
  if (!started) throw new Error('Custody is not running');
  const response = await fetch(`${started.controlUrl}/${serial}/hold-button`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** What the simulator's control API tells of a camera (never a password). */
interface SimulatedCameraView {
  serial: string;
  model: string;
  firmware: string;
  state: { needsetup: boolean };
}

async function simulatedCameras(): Promise<SimulatedCameraView[]> {
  if (!started) throw new Error('Custody is not running');
  const response = await fetch(started.controlUrl);
  return (await response.json()) as SimulatedCameraView[];
}

/** The technician opens a case from the fleet, enters a candidate and runs the access check. */
async function triage(page: Page, serial: string, password: string, source: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Fleet', exact: true })
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Fleet' })).toBeVisible();
  await page.getByLabel('Search serial, model or product name').fill(serial);
  await expect(page).toHaveURL(new RegExp(`[?&]q=${serial}`));
  // The agent reports the demo's cameras within a minute of the start.
  await expect(page.getByRole('row', { name: new RegExp(serial) })).toBeVisible({
    timeout: 90_000,
  });
  await page.getByRole('link', { name: serial }).click();
  await expect(page).toHaveURL(new RegExp(`/cameras/${serial}$`));
  await expect(page.getByRole('heading', { level: 1 })).toContainText(serial);
  await page.getByRole('button', { name: 'Open a recommissioning case' }).click();
  await expect(page).toHaveURL(/\/cases\/[0-9a-f-]{36}$/);
  const caseId = /\/cases\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Case for camera ${serial}`);

  const candidate = page.getByRole('form', { name: 'Add a candidate credential' });
  await expect(candidate.getByLabel('User name')).toHaveValue('root');
  await candidate.getByLabel('Password').fill(password);
  await candidate.getByLabel('Where it came from').fill(source);
  await candidate.getByRole('button', { name: 'Add candidate' }).click();
  await expect(candidate.getByRole('status')).toHaveText('Candidate sealed.');
  await expect(page.getByText(`root from ${source} — not tested yet`)).toBeVisible();
  await page.getByRole('button', { name: 'Run the access check' }).click();
  const triageSection = page.getByRole('region', { name: 'Triage: access check' });
  await expect(triageSection.getByText(/^Decision:/)).toHaveText(
    'Decision: Recommission with a factory reset (access state Login failed)',
    { timeout: 60_000 },
  );
  return { caseId, triageSection };
}

/** The owner's approver attests ownership of the camera, with the evidence given. */
async function recordOwnership(
  page: Page,
  serial: string,
  evidence: { orderNumber: string; pdf?: { name: string; buffer: Buffer; description: string } },
) {
  await page.goto(`/cameras/${serial}/ownership`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Ownership of ${serial}`);
  await expect(
    page.getByText('None yet: no reset can be requested for this camera.'),
  ).toBeVisible();
  const form = page.getByRole('region', { name: 'Attest the owner' });
  await form.getByLabel('Circumstance').selectOption('inherited-from-another-installer');
  await form.getByLabel('Order number').fill(evidence.orderNumber);
  if (evidence.pdf) {
    await form.getByLabel('Document (PDF, JPEG or PNG, up to 10 MiB)').setInputFiles({
      name: evidence.pdf.name,
      mimeType: 'application/pdf',
      buffer: evidence.pdf.buffer,
    });
    await form.getByLabel('What the document is').fill(evidence.pdf.description);
  }
  await form.getByRole('button', { name: 'Record ownership' }).click();
  await expect(form.getByRole('status')).toHaveText(
    'Ownership recorded. Any case waiting for it has moved on.',
  );
  const current = page.getByRole('region', { name: 'Current record' });
  await expect(current).toContainText('Demo Owner: Inherited from another installer.');
  await expect(current).toContainText(`Order number: ${evidence.orderNumber}`);
  return current;
}

/** The technician asks the owner for the guided button reset, from the case's approval page. */
async function requestButtonReset(page: Page, caseId: string, reason: string) {
  await page.goto(`/cases/${caseId}`);
  await page.getByRole('link', { name: 'Owner approval for this case' }).click();
  await expect(page).toHaveURL(new RegExp(`/cases/${caseId}/approval$`));
  // No credential works: only the button reset is suggested.
  await expect(
    page.getByRole('radio', { name: 'Guided control-button reset on site' }),
  ).toBeChecked();
  await page.getByLabel('Reason', { exact: true }).fill(reason);
  await page.getByRole('button', { name: 'Request approval' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sent to' })).toHaveText(
    'Sent to the approvers of the owner: Guided control-button reset on site, 1 approval needed.',
  );
  const card = page.getByRole('article', { name: /Guided control-button reset on site for/ });
  await expect(card).toContainText('Waiting for a decision');
  return card;
}

test.beforeAll(async ({ browser: _browser }, testInfo) => {
  testInfo.setTimeout(240_000);
  const port = PORTS[testInfo.project.name];
  if (!port) throw new Error(`no port for project ${testInfo.project.name}`);
  const demoDir = mkdtempSync(join(tmpdir(), 'custody-worked-demo-'));
  const custody = await startCustody({
    project: testInfo.project.name,
    port,
    dataDirPrefix: 'custody-worked-',
    env: { CUSTODY_DEMO: '1', CUSTODY_DEMO_DIR: demoDir },
  });
  try {
    const users = demoUsers(custody.output());
    const control = await waitForOutput(custody, /power and reset buttons: (\S+)/, 120_000);
    started = { custody, demoDir, users, controlUrl: control[1] ?? '' };
  } catch (error) {
    await custody.stop();
    rmSync(demoDir, { recursive: true, force: true });
    throw error;
  }
});

test.afterAll(async () => {
  if (!started) return;
  await started.custody.stop();
  rmSync(started.demoDir, { recursive: true, force: true });
  started = undefined;
});

test('an inherited camera is recommissioned for its owner: triage, ownership, approval, button reset, verification and a documented handover', async ({
  browser,
}, testInfo) => {
  test.setTimeout(420_000);
  const technician = await signIn(browser, 'technician');
  const owner = await signIn(browser, 'owner-approver');
  const admin = await signIn(browser, 'integrator-admin');
  const tech = technician.page;
  const approver = owner.page;
  const camera = (await simulatedCameras()).find((candidate) => candidate.serial === INHERITED);
  expect(camera?.state.needsetup).toBe(false);
  const model = camera?.model ?? '';

  // Technician: the camera from the fleet, a case, the installer's password, the access check.
  const { caseId, triageSection } = await triage(
    tech,
    INHERITED,
    NOTES_PASSWORD,
    'the previous installer’s notes',
  );
  await expect(triageSection.getByRole('listitem').first()).toBeVisible();
  await expect(
    triageSection.getByRole('table', { name: 'Credentials tested through the agent' }),
  ).toContainText('rejected');
  await expect(tech.getByText('root from the previous installer’s notes — rejected')).toBeVisible();
  await expect(tech.getByRole('link', { name: 'Record the camera’s ownership' })).toBeVisible();
  await tech.screenshot({ path: testInfo.outputPath('1-triaged.png'), fullPage: true });

  // Owner approver: ownership with the order number and the scanned invoice.
  const current = await recordOwnership(approver, INHERITED, {
    orderNumber: 'HB-2019-0417',
    pdf: {
      name: 'invoice-2019-0417.pdf',
      buffer: invoicePdf(),
      description: 'Invoice from the original installer, 2019',
    },
  });
  await expect(current.getByRole('link', { name: 'invoice-2019-0417.pdf' })).toBeVisible();
  await approver.screenshot({ path: testInfo.outputPath('2-ownership.png'), fullPage: true });

  // Technician: the case moved on; the request for the guided button reset.
  await requestButtonReset(
    tech,
    caseId,
    'Inherited from the previous installer; no admin credential works (the notes are wrong). Guided button reset on site, then recommission.',
  );
  await expect(tech.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  // The technician watches the case while the owner decides.
  await tech.goto(`/cases/${caseId}`);
  await expect(tech.getByRole('heading', { level: 1 })).toContainText(INHERITED);
  await tech.evaluate(() => {
    (window as unknown as { custodyNoReload?: boolean }).custodyNoReload = true;
  });

  // Owner approver: the inbox, the evidence, the approval with a reason.
  await approver
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: /Approvals/ })
    .click();
  const request = approver.getByRole('article', {
    name: `Guided control-button reset on site for ${INHERITED}`,
  });
  await expect(request).toContainText('Demo Technician');
  await expect(request).toContainText('Inherited from another installer');
  await expect(request.getByRole('link', { name: 'invoice-2019-0417.pdf' })).toBeVisible();
  await request
    .getByLabel('Your reason')
    .fill('Our camera: order HB-2019-0417 and the installer’s invoice match the serial.');
  await approver.screenshot({ path: testInfo.outputPath('3-approval-inbox.png'), fullPage: true });
  await request.getByRole('button', { name: 'Approve' }).click();
  await expect(approver.getByRole('status').filter({ hasText: 'Approved' }).first()).toHaveText(
    `Approved ${INHERITED}: a single-use grant was issued to the technician.`,
  );

  // Technician: the approval arrives by the page's own updates; the guided button reset.
  const start = tech.getByRole('button', { name: 'Start the reset' });
  await expect(start).toBeVisible({ timeout: 30_000 });
  expect(
    await tech.evaluate(
      () => (window as unknown as { custodyNoReload?: boolean }).custodyNoReload === true,
    ),
  ).toBe(true);
  await start.click();
  const reset = tech.getByRole('region', { name: 'Reset', exact: true });
  await expect(reset.getByRole('heading', { name: 'Control-button procedure' })).toBeVisible();
  await expect(reset.getByRole('listitem').filter({ hasText: 'flashes amber' })).toBeVisible();
  const watching = reset.getByRole('status').filter({ hasText: 'Watching for the camera' });
  await expect(watching).toBeVisible();
  // The button is pressed once the agent watches, as the page tells the person on site.
  await expect(watching).not.toContainText('waiting for the agent to start', { timeout: 30_000 });
  await tech.screenshot({ path: testInfo.outputPath('4-button-procedure.png'), fullPage: true });
  await holdControlButton(INHERITED, 20);

  // The agent sees it come back factory-defaulted; the technician writes the plan.
  await expect(reset.getByRole('row', { name: /Control-button procedure/ })).toContainText(
    'came back in factory-default state',
    { timeout: 120_000 },
  );
  const plan = tech.getByRole('form', { name: /the plan$/ });
  await expect(plan.getByRole('radio', { name: 'DHCP' })).toBeChecked();
  await plan.getByLabel('Time zone').fill('CET-1CEST,M3.5.0,M10.5.0/3');
  await plan.getByLabel('NTP servers').fill('pool.ntp.org');
  await plan.getByLabel('VMS the camera goes back to').fill(VMS);
  await expect(plan.getByLabel('Administrator user name')).toHaveValue('root');
  await expect(plan.getByLabel('Custody service account')).toHaveValue('custodysvc');
  await expect(plan.getByLabel('VMS account')).toHaveValue('vms');
  await plan.getByRole('button', { name: 'Save the plan' }).click();
  const planFacts = tech.getByRole('region', { name: 'Plan', exact: true });
  await expect(planFacts.getByRole('definition').filter({ hasText: VMS })).toBeVisible();

  // Provisioning and verification run through the agent; the VMS re-add is the technician's.
  const verification = tech.getByRole('region', { name: 'Verification', exact: true });
  await expect(verification.getByRole('table')).toBeVisible({ timeout: 120_000 });
  const vms = tech.getByRole('form', { name: 'Confirm the camera is back in the VMS' });
  await expect(vms.getByLabel('VMS', { exact: true })).toHaveValue(VMS);
  await vms
    .getByLabel('Note')
    .fill('Re-added in ACS with the new VMS account by Demo Technician; live view shown.');
  await vms.getByRole('button', { name: 'Confirm' }).click();
  await expect(verification).toContainText(`Re-added to ${VMS}, confirmed by Demo Technician.`);
  await expect(verification.getByRole('table')).toHaveAccessibleName(/^Passed/, {
    timeout: 60_000,
  });
  for (const check of [
    'New credentials work',
    'Old credentials are rejected',
    'Snapshot is a real JPEG',
    'RTSP DESCRIBE with the VMS account',
    'Recording present',
    'Re-added to the VMS',
  ]) {
    await expect(verification.getByRole('row', { name: new RegExp(check) })).toContainText(
      'passed',
    );
  }
  await expect(
    verification.getByRole('img', {
      name: `Snapshot from camera ${INHERITED} taken during verification`,
    }),
  ).toBeVisible();
  const credentials = tech.getByRole('region', { name: 'New credentials (vault references)' });
  await expect(credentials).toContainText('admin: root v1, active');
  await expect(credentials).toContainText('vms: vms v1, active');
  await tech.screenshot({ path: testInfo.outputPath('5-verified.png'), fullPage: true });

  // The integrator admin reveals the new VMS and admin passwords, with a reason (for the VMS
  // re-add): those are the secrets the handover must not show.
  const versions = await trpc(admin.page, 'query', 'vault.versions', { serial: INHERITED });
  expect(versions.status).toBe(200);
  const secrets = [NOTES_PASSWORD];
  for (const account of ['admin']) {
    const version = dataOf<{ id: string; account: string; status: string }[]>(versions.body).find(
      (row) => row.account === account && row.status === 'active',
    );
    expect(version, `an active ${account} credential`).toBeDefined();
    const revealed = await trpc(admin.page, 'mutation', 'vault.reveal', {
      credentialId: version?.id,
      reason: 'Re-adding the recommissioned camera to AXIS Camera Station.',
    });
    expect(revealed.status).toBe(200);
    const password = dataOf<{ password: string }>(revealed.body).password;
    expect(password.length).toBeGreaterThanOrEqual(12);
    secrets.push(password);
  }

  // The VMS password through the camera page, as the technician's VMS form tells them to.
  await admin.page.goto(`/cameras/${INHERITED}`);
  const vmsVersions = admin.page.getByRole('group', { name: /VMS/ });
  await vmsVersions.getByText(/^Reveal the .*vms.* password \(version 1\)$/i).click();
  await vmsVersions
    .getByLabel('Reason', { exact: true })
    .fill('Re-adding the recommissioned camera to AXIS Camera Station.');
  await vmsVersions.getByRole('button', { name: 'Reveal password' }).click();
  const shown = vmsVersions.getByLabel(/^Password of /);
  await expect(shown).toBeVisible();
  const vmsPassword = await shown.inputValue();
  expect(vmsPassword.length).toBeGreaterThanOrEqual(12);
  secrets.push(vmsPassword);
  await vmsVersions.getByRole('button', { name: 'Hide' }).click();
  await expect(shown).toHaveCount(0);

  // The handover: model, serial, owner and credential references, never a password.
  await tech.getByRole('link', { name: 'Handover record' }).click();
  await expect(tech).toHaveURL(new RegExp(`/cases/${caseId}/handover$`));
  const heading = tech.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText(`Handover: ${model} ${INHERITED}`);
  const cameraFacts = tech.getByRole('region', { name: 'Camera', exact: true });
  await expect(cameraFacts.getByRole('definition').first()).toContainText(model);
  await expect(cameraFacts.getByRole('definition').nth(1)).toHaveText(INHERITED);
  const ownerFacts = tech.getByRole('region', { name: 'Owner and site' });
  await expect(ownerFacts.getByRole('definition').first()).toHaveText('Demo Owner');
  await expect(ownerFacts).toContainText('Order number: HB-2019-0417');
  await expect(ownerFacts.getByRole('link', { name: 'invoice-2019-0417.pdf' })).toBeVisible();
  const credentialTable = tech
    .getByRole('region', { name: 'Credentials', exact: true })
    .getByRole('table');
  for (const account of ['admin', 'service', 'vms']) {
    await expect(
      credentialTable.getByRole('row', { name: new RegExp(`^${account} `) }),
    ).toContainText(/[0-9a-f-]{36}/);
  }
  const vmsFacts = tech.getByRole('region', { name: 'Video management system' });
  await expect(vmsFacts).toContainText(VMS);
  await expect(vmsFacts).toContainText('confirmed by Demo Technician');
  const pageText = await tech.locator('body').innerText();
  const pageHtml = await tech.content();
  for (const secret of secrets) {
    expect(pageText.includes(secret), 'a password in the handover page text').toBe(false);
    expect(pageHtml.includes(secret), 'a password in the handover page source').toBe(false);
  }
  await tech.screenshot({ path: testInfo.outputPath('6-handover.png'), fullPage: true });

  // The JSON export of this case.
  const downloading = tech.waitForEvent('download');
  await tech.getByRole('link', { name: 'JSON' }).first().click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(new RegExp(`^handover-${INHERITED}-.*\\.json$`));
  const file = await download.path();
  const json = readFileSync(file, 'utf8');
  for (const secret of secrets) {
    expect(json.includes(secret), 'a password in the JSON export').toBe(false);
  }
  const exported = JSON.parse(json) as {
    case: { id: string; status: string; path: string };
    camera: { serial: string; model: string };
    owner: {
      name: string;
      record: { circumstance: string; evidence: { kind: string; reference: string }[] };
    };
    credentials: { account: string; username: string; credentialId: string; status: string }[];
    vms: { platform: string; confirmation: { confirmedBy: string } | null };
    verification: { passed: boolean };
    approvals: {
      verb: string;
      status: string;
      decisions: { approver: string; decision: string }[];
    }[];
    resets: { method: string; observation: string }[];
  };
  expect(exported.case).toMatchObject({ id: caseId, status: 'verified', path: 'recommission' });
  expect(exported.camera).toMatchObject({ serial: INHERITED, model });
  expect(exported.owner.name).toBe('Demo Owner');
  expect(exported.owner.record.circumstance).toBe('inherited-from-another-installer');
  expect(exported.owner.record.evidence).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ kind: 'order-number', reference: 'HB-2019-0417' }),
      expect.objectContaining({ kind: 'document' }),
    ]),
  );
  expect(
    exported.credentials
      .filter((credential) => credential.status === 'active')
      .map((credential) => `${credential.account}:${credential.username}`)
      .sort(),
  ).toEqual(['admin:root', 'service:custodysvc', 'vms:vms']);
  expect(exported.vms.platform).toBe(VMS);
  expect(exported.vms.confirmation?.confirmedBy).toBe('Demo Technician');
  expect(exported.verification.passed).toBe(true);
  expect(exported.approvals).toEqual([
    expect.objectContaining({
      verb: 'guided-button-reset',
      status: 'approved',
      decisions: [
        expect.objectContaining({ approver: 'Demo Owner Approver', decision: 'approve' }),
      ],
    }),
  ]);
  expect(exported.resets.at(-1)).toMatchObject({
    method: 'control-button',
    observation: 'returned-factory-default',
  });

  // The technician confirms the handover: the case is documented.
  await tech
    .getByLabel('Note (optional)')
    .fill('Handover sheet given to the owner’s office manager.');
  await tech.getByRole('button', { name: 'Confirm handover and close the case' }).click();
  await expect(tech.getByText(/, documented: handed over by Demo Technician on /)).toBeVisible();
  await tech.screenshot({ path: testInfo.outputPath('7-documented.png'), fullPage: true });

  // The owner approver verifies the audit chain.
  await approver
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Audit', exact: true })
    .click();
  await expect(approver.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await approver.getByRole('button', { name: 'Verify chain' }).click();
  await expect(approver.getByRole('status').filter({ hasText: 'Chain intact' })).toHaveText(
    /Chain intact: \d+ events, head hash [0-9a-f]{64}/,
  );
  await approver.screenshot({ path: testInfo.outputPath('8-audit.png'), fullPage: true });

  await technician.context.close();
  await owner.context.close();
  await admin.context.close();
});

test('a technician cannot approve their own reset request, neither in the page nor through the API', async ({
  browser,
}, testInfo) => {
  test.setTimeout(180_000);
  const technician = await signIn(browser, 'technician');
  const owner = await signIn(browser, 'owner-approver');
  const tech = technician.page;
  // Another inherited camera of the demo site, configured with a password nobody documented.
  const camera = (await simulatedCameras()).find(
    (candidate) =>
      candidate.serial !== INHERITED &&
      !candidate.state.needsetup &&
      candidate.firmware === '11.11',
  );
  if (!camera) throw new Error('the demo site has no configured 11.11 camera');

  const { caseId } = await triage(tech, camera.serial, 'Guessed-Never-Heron-2207', 'a sticky note');
  await recordOwnership(owner.page, camera.serial, { orderNumber: 'HB-2020-0988' });
  const card = await requestButtonReset(
    tech,
    caseId,
    'No admin credential works for this one either.',
  );

  // The page offers the requester no decision.
  await expect(card.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await expect(card.getByLabel('Your reason')).toHaveCount(0);
  await tech
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: /Approvals/ })
    .click();
  await expect(tech.getByText('Nothing is waiting for a decision.')).toBeVisible();

  // The API refuses the decision, with the policy's reason.
  const requests = await trpc(tech, 'query', 'approvals.forCase', { caseId });
  expect(requests.status).toBe(200);
  const pending = dataOf<{ id: string; status: string }[]>(requests.body).find(
    (request) => request.status === 'pending',
  );
  expect(pending).toBeDefined();
  const attempt = await trpc(tech, 'mutation', 'approvals.decide', {
    requestId: pending?.id,
    decision: 'approve',
    reason: 'Approving my own request.',
  });
  expect(attempt.status).toBe(403);
  expect(attempt.body).toMatchObject({
    error: {
      json: {
        message: 'The person who requested a reset cannot decide on it.',
        data: { code: 'FORBIDDEN' },
      },
    },
  });

  // Nothing changed: the request still waits for the owner, and the case for its approval.
  await owner.page.goto('/approvals');
  const request = owner.page.getByRole('article', {
    name: `Guided control-button reset on site for ${camera.serial}`,
  });
  await expect(request).toContainText('Waiting for a decision');
  await expect(request).toContainText('0 of 1 approval');
  await tech.goto(`/cases/${caseId}`);
  await expect(tech.getByRole('button', { name: 'Start the reset' })).toHaveCount(0);
  await expect(tech.getByRole('definition').filter({ hasText: 'Owner approval' })).toBeVisible();

  // And the refused attempt is in the audit log.
  await owner.page.goto('/audit?action=approval.refused');
  await expect(owner.page.locator('tbody th[scope="row"]')).toHaveText(['approval.refused']);
  await owner.page.screenshot({
    path: testInfo.outputPath('refused-in-audit.png'),
    fullPage: true,
  });

  await technician.context.close();
  await owner.context.close();
});
