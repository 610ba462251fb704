'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  { href: '/sites', label: 'Sites' },
  { href: '/fleet', label: 'Fleet' },
  { href: '/agents', label: 'Agents' },
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
        </Link>
      ))}
    </nav>
  );
}
