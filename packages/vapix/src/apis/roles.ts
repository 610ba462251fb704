export const ROLES = ['admin', 'operator', 'viewer', 'ptz'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * The pwdgrp `sgrp` value. Admin always includes operator and viewer, operator includes
 * viewer (reference §4.1); the order is the one F and the first-admin recipe use.
 */
export function secondaryGroups(roles: readonly Role[]): string {
  const wanted = new Set<Role>(roles);
  if (wanted.has('admin')) wanted.add('operator');
  if (wanted.has('operator')) wanted.add('viewer');
  return ROLES.filter((role) => wanted.has(role)).join(':');
}
