import type { ReactNode } from 'react';

export default function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="topbar">
        <a href="/" className="brand">
          Custody
        </a>
        <nav aria-label="Main">
          <a href="/health">Health</a>
          <a href="/sign-in">Sign in</a>
        </nav>
      </header>
      <main>{children}</main>
    </>
  );
}
