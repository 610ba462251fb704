import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PromptCancelled, readHiddenLine } from './read-hidden-line.ts';

class FakeTerminal extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  setRawMode(raw: boolean) {
    this.raw.push(raw);
  }
  resume() {}
  pause() {}
  type(text: string) {
    this.emit('data', Buffer.from(text));
  }
}

function output() {
  let text = '';
  return { write: (chunk: string) => (text += chunk), text: () => text };
}

describe('readHiddenLine', () => {
  it('reads a line in raw mode without echoing it, with backspace and arrow keys handled', async () => {
    const terminal = new FakeTerminal();
    const out = output();
    const line = readHiddenLine('Password: ', terminal, out);
    terminal.type('corre');
    terminal.type('x\u007fct\u001b[D horse');
    terminal.type('\r');
    await expect(line).resolves.toBe('correct horse');
    expect(out.text()).toBe('Password: \n');
    expect(terminal.raw).toEqual([true, false]);
    expect(terminal.listenerCount('data')).toBe(0);
  });

  it('is cancelled by Ctrl+C, leaving the terminal as it was', async () => {
    const terminal = new FakeTerminal();
    const line = readHiddenLine('Password: ', terminal, output());
    terminal.type('abc\u0003');
    await expect(line).rejects.toBeInstanceOf(PromptCancelled);
    expect(terminal.raw).toEqual([true, false]);
  });

  it('refuses to prompt where there is no terminal', async () => {
    const terminal = new FakeTerminal();
    terminal.isTTY = false;
    await expect(readHiddenLine('Password: ', terminal, output())).rejects.toThrow(
      'not a terminal',
    );
  });
});
