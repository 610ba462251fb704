import { DomainError } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { responseForError } from './route-support.ts';

describe('responseForError', () => {
  it('answers a rate-limited request with 429 and Retry-After', async () => {
    const response = responseForError(
      new DomainError('rate-limited', 'Too many exports; try again in a minute.', {
        details: { retryAfterSeconds: 42 },
      }),
      'Export',
    );
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('42');
    expect(await response.json()).toEqual({
      error: { message: 'Too many exports; try again in a minute.', code: 'rate-limited' },
    });
  });

  it('sends no Retry-After with other refusals', () => {
    const response = responseForError(new DomainError('forbidden', 'No.'), 'Export');
    expect(response.status).toBe(403);
    expect(response.headers.get('retry-after')).toBeNull();
  });
});
