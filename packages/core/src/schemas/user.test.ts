import { describe, expect, it } from 'vitest';
import { UserSchema } from './user.ts';

const USER = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  email: 'Ada.Tech@Example.COM',
  name: 'Ada',
};

describe('UserSchema', () => {
  it('lower-cases the email address so it identifies one user', () => {
    expect(UserSchema.parse(USER)).toEqual({ ...USER, email: 'ada.tech@example.com' });
  });

  it('rejects an invalid email address or a blank name', () => {
    expect(UserSchema.safeParse({ ...USER, email: 'ada' }).success).toBe(false);
    expect(UserSchema.safeParse({ ...USER, name: '' }).success).toBe(false);
  });
});
