import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '~/trpc/react.tsx';
import './globals.css';

export const metadata: Metadata = {
  title: 'Custody',
  description: 'Recommissioning AXIS cameras for their legitimate owners',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
