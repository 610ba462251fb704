import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { logUnhandledRejections } from './process-handlers.ts';

describe('logUnhandledRejections', () => {
  it('logs a rejection nobody handled instead of letting it end the process', () => {
    const process = new EventEmitter();
    let logged = '';
    const logger = createLogger('info', { write: (text: string) => (logged += text) });
    logUnhandledRejections(process, logger);
    expect(process.listenerCount('unhandledRejection')).toBe(1);
    process.emit('unhandledRejection', new TypeError('outbox closed'), Promise.resolve());
    process.emit('unhandledRejection', 'a bare string', Promise.resolve());
    expect(logged).toMatch(/ error unhandled rejection.* error="TypeError: outbox closed"/);
    expect(logged).toMatch(/error="a bare string"/);
  });
});
