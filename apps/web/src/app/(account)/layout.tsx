import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { currentActor } from '~/server/auth/current-actor.ts';

export const dynamic = 'force-dynamic';

/** Pages for a signed-in user who may not use the app yet (a one-time password to replace). */
export default async function AccountLayout({ children }: { children: ReactNode }) {
  const actor = await currentActor();
  if (!actor) redirect('/sign-in');
  return (
    <>
      <header className="topbar">
        <span className="brand">Custody</span>
        <span className="who">{actor.email}</span>
      </header>
      <main>{children}</main>
    </>
  );
}
