import { describe, expect, it } from 'vitest';
import { ORG_KINDS, OrganisationSchema } from './organisation.ts';

const ORG = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  name: ' Acme Security ',
  kind: 'integrator',
};

describe('OrganisationSchema', () => {
  it('accepts integrators and owners', () => {
    expect(ORG_KINDS).toEqual(['integrator', 'owner']);
    expect(OrganisationSchema.parse(ORG)).toEqual({ ...ORG, name: 'Acme Security' });
    expect(OrganisationSchema.parse({ ...ORG, kind: 'owner' }).kind).toBe('owner');
  });

  it('rejects other kinds, a blank name and a missing id', () => {
    expect(OrganisationSchema.safeParse({ ...ORG, kind: 'vendor' }).success).toBe(false);
    expect(OrganisationSchema.safeParse({ ...ORG, name: ' ' }).success).toBe(false);
    expect(OrganisationSchema.safeParse({ name: ORG.name, kind: ORG.kind }).success).toBe(false);
  });
});
