import { openOutbox } from '../outbox.ts';
import { progressMessage } from './agent-messages.ts';

/*
 * Run by outbox-crash.test.ts and killed with SIGKILL at some point: appends to the outbox in
 * `dir` from several concurrent loops and acknowledges nine messages in ten. Each line it prints
 * is printed only after the operation resolved; stdout is a pipe, which Node writes synchronously
 * on POSIX, so the parent has every line printed before the kill.
 */

const [dir, round] = process.argv.slice(2);
if (dir === undefined || round === undefined)
  throw new Error('usage: outbox-crash-child DIR ROUND');

const outbox = await openOutbox(dir, { maxBytes: 256 * 1024 });
let counter = 0;

async function appendForever(): Promise<never> {
  for (;;) {
    const n = counter;
    counter += 1;
    const message = progressMessage(`r${round}:${n}`, 300);
    await outbox.append(message);
    process.stdout.write(`appended ${n} ${message.id}\n`);
    if (n % 10 !== 0) {
      await outbox.acknowledge([message.id]);
      process.stdout.write(`acked ${n} ${message.id}\n`);
    }
  }
}

await Promise.all(Array.from({ length: 16 }, appendForever));
