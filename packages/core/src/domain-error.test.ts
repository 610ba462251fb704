import { describe, expect, it } from 'vitest';
import { DOMAIN_ERROR_CODES, DomainError, isDomainError } from './domain-error.ts';
import { err, ok } from './result.ts';

describe('DomainError', () => {
  it('carries a stable code, its details and its cause', () => {
    const cause = new TypeError('underlying');
    const error = new DomainError('invalid-input', 'Bad input.', {
      cause,
      details: { field: 'x' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe('Bad input.');
    expect(error.details).toEqual({ field: 'x' });
    expect(error.cause).toBe(cause);
  });

  it('has empty details and no cause unless given', () => {
    const error = new DomainError('chain-broken', 'Broken.');
    expect(error.details).toEqual({});
    expect('cause' in error).toBe(false);
  });

  it('keeps its codes to a short closed list', () => {
    expect(DOMAIN_ERROR_CODES).toEqual([
      'invalid-serial',
      'invalid-transition',
      'approval-refused',
      'invalid-input',
      'chain-broken',
      'not-found',
      'forbidden',
      'conflict',
      'rate-limited',
    ]);
  });
});

describe('isDomainError', () => {
  it('recognises domain errors, optionally of one code', () => {
    const error = new DomainError('invalid-serial', 'No.');
    expect(isDomainError(error)).toBe(true);
    expect(isDomainError(error, 'invalid-serial')).toBe(true);
    expect(isDomainError(error, 'invalid-input')).toBe(false);
    expect(isDomainError(new Error('No.'))).toBe(false);
    expect(isDomainError({ name: 'DomainError', code: 'invalid-serial' })).toBe(false);
  });
});

describe('Result helpers', () => {
  it('wrap values and errors', () => {
    expect(ok(3)).toEqual({ ok: true, value: 3 });
    expect(err('nope')).toEqual({ ok: false, error: 'nope' });
  });
});
