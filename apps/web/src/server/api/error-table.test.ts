import { DOMAIN_ERROR_CODES, DomainError } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DOMAIN_TO_TRPC, fieldErrorsOf, toTRPCError } from './error-table.ts';

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
