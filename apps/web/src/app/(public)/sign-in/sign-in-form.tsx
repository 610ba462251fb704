'use client';

import { useRouter } from 'next/navigation';
import { useRef, useState, type FormEvent } from 'react';

const MESSAGES: Record<number, string> = {
  401: 'The e-mail address or the password is not correct.',
  403: 'Sign-in was refused: open Custody at the address it was started with.',
};

export function SignInForm({ next }: { next: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorRef = useRef<HTMLParagraphElement>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/auth/sign-in/email', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
      });
      if (response.ok) {
        router.replace(next);
        router.refresh();
        return;
      }
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      setError(
        response.status === 429
          ? (body?.message ?? 'Too many sign-in attempts. Try again later.')
          : (MESSAGES[response.status] ?? 'Signing in failed. Try again in a moment.'),
      );
    } catch {
      setError('Custody could not be reached. Check the connection and try again.');
    } finally {
      setBusy(false);
    }
    // Move focus to the message so a screen reader announces it and Tab resumes from there.
    requestAnimationFrame(() => errorRef.current?.focus());
  }

  return (
    <form
      className="stack"
      onSubmit={(event) => void onSubmit(event)}
      aria-describedby={error ? 'sign-in-error' : undefined}
    >
      {error ? (
        <p id="sign-in-error" role="alert" className="form-error" tabIndex={-1} ref={errorRef}>
          {error}
        </p>
      ) : null}
      <label htmlFor="email">E-mail address</label>
      <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
