import { readFile } from 'node:fs/promises';
import { countCameras, parseSite, startSite } from './site.ts';

const USAGE =
  'usage: custody-sim <site.json>\n\nStarts simulated AXIS cameras described by a site file (see examples/demo-site.json).';

function fail(message: string, code = 2): never {
  process.stderr.write(`custody-sim: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [file, ...extra] = argv;
  if (!file || extra.length > 0) fail(USAGE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseSite(json);
  if (!parsed.ok) fail(`${file} is not a valid site description:\n${parsed.error}`);
  const site = parsed.site;
  const total = countCameras(site);
  process.stdout.write(
    `Starting ${site.name ?? 'site'}: ${total} camera${total === 1 ? '' : 's'}\n`,
  );
  const step = Math.max(1, Math.ceil(total / 10));
  const simulator = await startSite(site, (_camera, index) => {
    if (total > 20 && (index % step === 0 || index === total)) {
      process.stdout.write(`  started ${index}/${total}\n`);
    }
  }).catch((error: unknown) => fail(`could not start the site: ${(error as Error).message}`, 1));
  for (const camera of simulator.cameras) {
    const state = camera.needsSetup ? 'factory-default' : 'configured';
    const urls = [camera.httpUrl, camera.httpsUrl, camera.rtspUrl].filter(Boolean).join('  ');
    process.stdout.write(
      `${camera.serial}  ${camera.firmware.padEnd(5)}  ${camera.identity.model.padEnd(10)}  ${state.padEnd(15)}  ${urls}\n`,
    );
  }
  if (simulator.controlUrl) process.stdout.write(`Control API: ${simulator.controlUrl}/cameras\n`);
  process.stdout.write('Ready. Press Ctrl+C to stop.\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping ${simulator.cameras.length} cameras\n`);
    simulator.close().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      (error: unknown) => fail(`error while stopping: ${(error as Error).message}`, 1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((error: unknown) => fail((error as Error).message, 1));
