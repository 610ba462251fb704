'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { ApprovalsBadge } from './approvals/approvals-badge.tsx';

const LINKS = [
  { href: '/sites', label: 'Sites' },
  { href: '/fleet', label: 'Fleet' },
  { href: '/agents', label: 'Agents' },
  { href: '/cases', label: 'Cases' },
  { href: '/approvals', label: 'Approvals' },
  { href: '/invitations', label: 'Invitations' },
  { href: '/audit', label: 'Audit' },
  { href: '/health', label: 'Health' },
];

export function MainNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Main">
      {LINKS.map((link) => (
        <Link
          key={link.href}
          href={link.href}
          aria-current={pathname.startsWith(link.href) ? 'page' : undefined}
        >
          {link.label}
          {link.href === '/approvals' ? <ApprovalsBadge /> : null}
        </Link>
      ))}
    </nav>
  );
}
