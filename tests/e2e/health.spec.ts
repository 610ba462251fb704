import { expect, test } from '@playwright/test';

test('the health page shows the database engine, its version and the migration level', async ({
  page,
}, testInfo) => {
  await page.goto('/health');
  await expect(page.getByRole('heading', { name: 'System health' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Healthy');
  const engine = testInfo.project.name === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL server';
  await expect(page.getByTestId('db-engine')).toHaveText(engine);
  await expect(page.getByTestId('db-version')).toHaveText(/^\d+(\.\d+)?/);
  const migrations = await page.getByTestId('db-migrations').textContent();
  expect(migrations).toMatch(/^(\d+) of \1$/);
  await expect(page.getByTestId('db-latest-migration')).toHaveText(/^\d{4}_\w+/);
  await page.screenshot({ path: testInfo.outputPath('health.png'), fullPage: true });
});

test('the home page links to the health page by keyboard', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Custody' })).toBeVisible();
  const link = page.getByRole('main').getByRole('link', { name: 'System health' });
  await link.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/health$/);
});

test('the health API answers JSON with the same facts', async ({ request }, testInfo) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  const body = (await response.json()) as {
    ok: boolean;
    database: { engine: string; migrationsApplied: number; migrationsKnown: number };
  };
  expect(body.ok).toBe(true);
  expect(body.database.engine).toBe(testInfo.project.name);
  expect(body.database.migrationsApplied).toBe(body.database.migrationsKnown);
});
