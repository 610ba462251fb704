/** A terminal to read from: process.stdin, or a stand-in in tests. */
export interface HiddenInput {
  isTTY?: boolean | undefined;
  setRawMode?: ((raw: boolean) => unknown) | undefined;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
}

/**
 * Asks for a secret on a terminal without echoing it: raw mode, so the terminal shows nothing
 * as it is typed. Backspace edits; arrow keys are ignored; Enter ends; Ctrl+C or Ctrl+D on an empty line cancel.
 */
export function readHiddenLine(
  prompt: string,
  input: HiddenInput,
  output: { write(text: string): unknown },
): Promise<string> {
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') {
    return Promise.reject(new Error('not a terminal'));
  }
  const setRawMode = input.setRawMode.bind(input);
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    // Arrow keys and the like arrive as escape sequences: ESC [ parameters final-letter.
    let escape: 'none' | 'started' | 'csi' = 'none';
    const finish = (outcome: { line: string } | { error: Error }) => {
      input.off('data', onData);
      setRawMode(false);
      input.pause();
      output.write('\n');
      if ('line' in outcome) resolve(outcome.line);
      else reject(outcome.error);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString('utf8')) {
        if (escape === 'started') {
          escape = char === '[' || char === 'O' ? 'csi' : 'none';
          continue;
        }
        if (escape === 'csi') {
          if (char >= '@' && char <= '~') escape = 'none';
          continue;
        }
        if (char === '\u001b') {
          escape = 'started';
          continue;
        }
        if (char === '\r' || char === '\n') return finish({ line: typed });
        if (char === '\u0003' || (char === '\u0004' && typed === '')) {
          return finish({ error: new PromptCancelled('cancelled') });
        }
        if (char === '\u007f' || char === '\b') {
          typed = [...typed].slice(0, -1).join('');
        } else if (char === '\u0015') {
          typed = '';
        } else if (char >= ' ') {
          typed += char;
        }
      }
    };
    setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}
