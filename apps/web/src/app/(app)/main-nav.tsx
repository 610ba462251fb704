'use client';

import type { Role } from '@custody/core';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { ApprovalsBadge } from './approvals/approvals-badge.tsx';

/** Links with `roles` are shown only to holders of one of them. */
const LINKS: { href: string; label: string; roles?: readonly Role[] }[] = [
  { href: '/sites', label: 'Sites' },
  { href: '/fleet', label: 'Fleet' },
  { href: '/agents', label: 'Agents' },
  { href: '/cases', label: 'Cases' },
  { href: '/approvals', label: 'Approvals' },
  { href: '/rotations', label: 'Rotations', roles: ['integrator-admin', 'owner-approver'] },
  { href: '/invitations', label: 'Invitations' },
  {
    href: '/fleet-audit',
    label: 'Fleet audit',
    roles: ['integrator-admin', 'owner-approver', 'auditor'],
  },
  { href: '/audit', label: 'Audit' },
  { href: '/health', label: 'Health' },
];

export function MainNav({ roles }: { roles: readonly Role[] }) {
  const pathname = usePathname();
  const links = LINKS.filter(
    (link) => link.roles === undefined || link.roles.some((role) => roles.includes(role)),
  );
  return (
    <nav aria-label="Main">
      {links.map((link) => (
        <Link
          key={link.href}
          href={link.href}
          aria-current={
            // Not a bare prefix: /fleet-audit is not part of /fleet.
            pathname === link.href || pathname.startsWith(`${link.href}/`) ? 'page' : undefined
          }
        >
          {link.label}
          {link.href === '/approvals' ? <ApprovalsBadge /> : null}
        </Link>
      ))}
    </nav>
  );
}
