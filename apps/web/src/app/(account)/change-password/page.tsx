import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { currentActor } from '~/server/auth/current-actor.ts';
import { ChangePasswordForm } from './change-password-form.tsx';

export const metadata: Metadata = { title: 'Choose your password · Custody' };

export default async function ChangePasswordPage() {
  const actor = await currentActor();
  if (!actor) redirect('/sign-in');
  return (
    <>
      <h1>{actor.passwordChangeRequired ? 'Choose your password' : 'Change your password'}</h1>
      {actor.passwordChangeRequired ? (
        <p>
          You signed in with a one-time password. Choose your own password (at least 12 characters)
          to continue.
        </p>
      ) : null}
      <ChangePasswordForm />
    </>
  );
}
