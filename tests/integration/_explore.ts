import { createSimulator, FIRMWARE_IDS } from '@custody/simulator';
import { probe, createAttemptBudget } from '@custody/vapix';

const sim = await createSimulator({ timeScale: 100, seed: 1, rebootMs: 10_000 });
for (const firmware of FIRMWARE_IDS) {
  const cam = await sim.addCamera({ firmware, users: [{ username: 'root', password: 'pass-Word-1', role: 'admin' }] });
  const budget = createAttemptBudget();
  const good = await probe(cam.httpUrl!, { username: 'root', password: 'pass-Word-1' }, { budget });
  const before = cam.stats.requests;
  const anon = await probe(cam.httpUrl!, null, { budget });
  const bad = await probe(cam.httpUrl!, { username: 'root', password: 'wrong' }, { budget });
  console.log(firmware, cam.serial, JSON.stringify(good), '\nANON', JSON.stringify(anon), cam.stats.requests - before, '\nBAD', JSON.stringify(bad), cam.stats.authFailures);
}
await sim.close();
