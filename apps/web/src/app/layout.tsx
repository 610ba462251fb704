import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'Custody',
  description: 'Recommissioning AXIS cameras for their legitimate owners',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <a href="/" className="brand">
            Custody
          </a>
          <nav aria-label="Main">
            <a href="/health">Health</a>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
