import { DOMAIN_ERROR_CODES, DomainError } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DOMAIN_TO_TRPC, fieldErrorsOf, retryAfterOf, toTRPCError } from './error-table.ts';

describe('the domain error table', () => {
  it('maps every domain error code', () => {
    expect(Object.keys(DOMAIN_TO_TRPC).sort()).toEqual([...DOMAIN_ERROR_CODES].sort());
  });

  it('keeps the message and the cause', () => {
    const cause = new DomainError('not-found', 'No such site.');
    const error = toTRPCError(cause);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('No such site.');
    expect(error.cause).toBe(cause);
  });

  it('answers a rate-limited call with TOO_MANY_REQUESTS and when to try again', () => {
    const cause = new DomainError('rate-limited', 'Too many.', {
      details: { retryAfterSeconds: 90.2 },
    });
    expect(toTRPCError(cause).code).toBe('TOO_MANY_REQUESTS');
    expect(retryAfterOf(cause)).toBe(91);
    expect(retryAfterOf(new DomainError('rate-limited', 'Too many.'))).toBeNull();
    expect(
      retryAfterOf(new DomainError('forbidden', 'No.', { details: { retryAfterSeconds: 5 } })),
    ).toBeNull();
  });
});

describe('fieldErrorsOf', () => {
  it('groups validation issues by field path', () => {
    const result = z
      .object({
        name: z.string().min(1, 'Required.'),
        range: z.object({ end: z.ipv4('Bad address.') }),
      })
      .safeParse({ name: '', range: { end: 'x' } });
    expect(fieldErrorsOf(result.error)).toEqual({
      name: ['Required.'],
      'range.end': ['Bad address.'],
    });
  });

  it('takes the field a domain error names', () => {
    const error = new DomainError('conflict', 'Taken.', { details: { field: 'email' } });
    expect(fieldErrorsOf(error)).toEqual({ email: ['Taken.'] });
    expect(fieldErrorsOf(new DomainError('conflict', 'Taken.'))).toBeNull();
    expect(fieldErrorsOf(new Error('other'))).toBeNull();
  });
});
