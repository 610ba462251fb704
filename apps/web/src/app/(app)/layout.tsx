import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { currentActor } from '~/server/auth/current-actor.ts';
import { MainNav } from './main-nav.tsx';
import { SignOutButton } from './sign-out-button.tsx';

export const dynamic = 'force-dynamic';

/** The signed-in app: every page below needs a session and a password of the user's own. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const actor = await currentActor();
  if (!actor) redirect('/sign-in');
  if (actor.passwordChangeRequired) redirect('/change-password');
  const roleList = [...new Set(actor.memberships.map((m) => m.role))];
  const roles = roleList.join(', ');
  return (
    <>
      <a href="#content" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <a href="/sites" className="brand">
          Custody
        </a>
        <MainNav roles={roleList} />
        <div className="who">
          <span>
            {actor.name} <span className="muted">({roles || 'no role yet'})</span>
          </span>
          <SignOutButton />
        </div>
      </header>
      <main id="content">{children}</main>
    </>
  );
}
