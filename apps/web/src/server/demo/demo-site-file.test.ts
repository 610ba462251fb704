import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cameraAddress, scanRangeOf, writeDemoSiteFile } from './demo-site-file.ts';

const EXAMPLE = fileURLToPath(
  new URL('../../../../../packages/simulator/examples/demo-site.json', import.meta.url),
);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'custody-demo-site-'));
  dirs.push(dir);
  return dir;
}

describe('the demo site file', () => {
  it('scans the /26 around the address base and counts cameras from it', () => {
    expect(scanRangeOf('127.77.0.1')).toBe('127.77.0.0/26');
    expect(scanRangeOf('127.93.1.70')).toBe('127.93.1.64/26');
    expect(cameraAddress('127.77.0.1', 11)).toBe('127.77.0.12');
    expect(cameraAddress('127.77.0.250', 10)).toBe('127.77.1.4');
  });

  it('keeps the example site as it is but for one HTTP port, and moves it when asked', async () => {
    const dir = await scratch();
    const plan = await writeDemoSiteFile({
      source: EXAMPLE,
      target: join(dir, 'nested', 'site.json'),
      preferredPort: 0,
      addressBase: '127.94.0.1',
    });
    expect(plan).toMatchObject({
      name: 'Demo site: Harbour warehouse',
      cameraCount: 12,
      addressBase: '127.94.0.1',
      cidr: '127.94.0.0/26',
    });
    expect(plan.cameraPort).toBeGreaterThan(0);
    const original = JSON.parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const written = JSON.parse(await readFile(plan.file, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({
      ...original,
      addressBase: '127.94.0.1',
      ports: { http: plan.cameraPort },
    });
  });

  it('refuses a site that is not on loopback addresses, naming the problem', async () => {
    const dir = await scratch();
    const source = join(dir, 'site.json');
    await writeFile(source, JSON.stringify({ addressPool: 'ports', cameras: [] }));
    await expect(
      writeDemoSiteFile({ source, target: join(dir, 'out.json'), preferredPort: 0 }),
    ).rejects.toThrow(/not a loopback site[\s\S]*addressPool[\s\S]*cameras/);
    await expect(
      writeDemoSiteFile({ source: join(dir, 'missing.json'), target: source, preferredPort: 0 }),
    ).rejects.toThrow(/Cannot read the demo site/);
  });
});
