import type { Metadata } from 'next';
import { SignInForm } from './sign-in-form.tsx';

export const metadata: Metadata = { title: 'Sign in · Custody' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[] }>;
}) {
  const { next } = await searchParams;
  // Only a path on this site: an absolute or protocol-relative URL would be an open redirect.
  const target = typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/sites';
  return (
    <>
      <h1>Sign in</h1>
      <SignInForm next={target} />
    </>
  );
}
