'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Field } from '~/app/_components/field.tsx';
import type { RouterOutputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';

type Invitation = RouterOutputs['organisations']['invitation'];

const ROLE_LABELS: Record<string, string> = {
  'integrator-admin': 'integrator admin',
  technician: 'technician',
  'owner-approver': 'owner approver',
  auditor: 'auditor',
};

const SIGN_IN_MESSAGES: Record<number, string> = {
  401: 'That password is not correct.',
  403: 'Sign-in was refused: open Custody at the address it was started with.',
};

/**
 * Reads the token from the fragment once and takes it out of the address bar at once, so it
 * stays out of the history, bookmarks and screenshots; it lives in this page's memory only.
 */
function useFragmentToken(): string | null | undefined {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    const fragment = window.location.hash.replace(/^#/, '').trim();
    if (fragment !== '') {
      window.history.replaceState(null, '', window.location.pathname);
    }
    setToken(fragment === '' ? null : fragment);
  }, []);
  return token;
}

async function signIn(email: string, password: string): Promise<string | null> {
  try {
    const response = await fetch('/api/auth/sign-in/email', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (response.ok) return null;
    const body = (await response.json().catch(() => null)) as { message?: string } | null;
    if (response.status === 429) return body?.message ?? 'Too many attempts. Try again later.';
    return SIGN_IN_MESSAGES[response.status] ?? 'Signing in failed. Try again in a moment.';
  } catch {
    return 'Custody could not be reached. Check the connection and try again.';
  }
}

export function InviteView() {
  const trpc = useTRPC();
  const token = useFragmentToken();
  const describe = useMutation(trpc.organisations.invitation.mutationOptions());
  const { mutate } = describe;
  useEffect(() => {
    if (token) mutate({ token });
  }, [token, mutate]);

  if (token === undefined) return <p role="status">Reading the invitation…</p>;
  if (token === null) {
    return (
      <p role="alert" className="form-error">
        This page opens from the link in your invitation. Open that link again (the whole of it,
        including the part after #). If you reloaded this page, the link is needed once more.
      </p>
    );
  }
  if (describe.isError) {
    return (
      <p role="alert" className="form-error">
        {describe.error.message}
      </p>
    );
  }
  if (!describe.data) return <p role="status">Checking the invitation…</p>;
  return <Offer token={token} invitation={describe.data} />;
}

function Offer({ token, invitation }: { token: string; invitation: Invitation }) {
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.me.get.queryOptions(), retry: false });
  const role = ROLE_LABELS[invitation.role] ?? invitation.role;
  const signedInAs = me.data?.email ?? null;
  const isInvitee =
    signedInAs !== null && signedInAs.toLowerCase() === invitation.email.toLowerCase();

  return (
    <>
      <p>
        You are invited to join <strong>{invitation.organisationName}</strong> as{' '}
        <strong>{role}</strong>, with the e-mail address <strong>{invitation.email}</strong>. The
        invitation expires{' '}
        <time dateTime={invitation.expiresAt.toISOString()}>
          {invitation.expiresAt.toLocaleString('en-GB')}
        </time>
        .
      </p>
      {me.isPending ? (
        <p role="status">Checking whether you are signed in…</p>
      ) : signedInAs !== null && !isInvitee ? (
        <p role="alert" className="form-error">
          You are signed in as {signedInAs}, but this invitation is for {invitation.email}. Sign
          out, then open the invitation link again.
        </p>
      ) : isInvitee ? (
        <AcceptAsSignedIn token={token} />
      ) : invitation.hasAccount ? (
        <SignInAndAccept token={token} email={invitation.email} />
      ) : (
        <CreateAccount token={token} email={invitation.email} />
      )}
    </>
  );
}

function useAccept() {
  const trpc = useTRPC();
  return useMutation(trpc.organisations.acceptInvitation.mutationOptions());
}

function useEnterApp(): () => void {
  const router = useRouter();
  return () => {
    router.replace('/sites');
    router.refresh();
  };
}

function FormError({ message }: { message: string | null }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (message) ref.current?.focus();
  }, [message]);
  if (!message) return null;
  return (
    <p role="alert" className="form-error" tabIndex={-1} ref={ref}>
      {message}
    </p>
  );
}

function AcceptAsSignedIn({ token }: { token: string }) {
  const accept = useAccept();
  const enterApp = useEnterApp();
  return (
    <div className="stack">
      <FormError message={accept.error?.message ?? null} />
      <button
        type="button"
        onClick={() => accept.mutate({ token }, { onSuccess: enterApp })}
        disabled={accept.isPending || accept.isSuccess}
      >
        {accept.isPending ? 'Accepting…' : 'Accept the invitation'}
      </button>
    </div>
  );
}

function SignInAndAccept({ token, email }: { token: string; email: string }) {
  const accept = useAccept();
  const enterApp = useEnterApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = formText(new FormData(event.currentTarget), 'password');
    setBusy(true);
    setError(null);
    const refused = await signIn(email, password);
    setBusy(false);
    if (refused !== null) {
      setError(refused);
      return;
    }
    accept.mutate(
      { token },
      { onSuccess: enterApp, onError: (failure) => setError(failure.message) },
    );
  }

  return (
    <form className="stack" onSubmit={(event) => void onSubmit(event)}>
      <p>You already have a Custody account: sign in to accept.</p>
      <FormError message={error} />
      <Field
        name="email"
        label="E-mail address"
        type="email"
        autoComplete="username"
        value={email}
        readOnly
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        autoFocus
      />
      <button type="submit" disabled={busy || accept.isPending || accept.isSuccess}>
        {busy || accept.isPending ? 'Signing in…' : 'Sign in and accept'}
      </button>
    </form>
  );
}

function CreateAccount({ token, email }: { token: string; email: string }) {
  const accept = useAccept();
  const enterApp = useEnterApp();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = formText(form, 'name').trim();
    const password = formText(form, 'password');
    setFieldErrors({});
    setError(null);
    if (password !== formText(form, 'confirmPassword')) {
      setFieldErrors({ confirmPassword: ['The two passwords differ.'] });
      return;
    }
    accept.mutate(
      { token, name, password },
      {
        onSuccess: () => {
          // The account exists; the session is the last step. Should it fail, sign-in works.
          void signIn(email, password).then((refused) => {
            if (refused === null) enterApp();
            else setError(`Your account is ready. ${refused} Sign in to continue.`);
          });
        },
        onError: (failure) => {
          const fields = fieldErrorsFrom(failure);
          setFieldErrors(fields);
          if (Object.keys(fields).length === 0) setError(failure.message);
        },
      },
    );
  }

  return (
    <form className="stack" onSubmit={onSubmit} noValidate>
      <p>Choose how you appear in Custody and a password for {email}.</p>
      <FormError message={error} />
      <Field
        name="name"
        label="Your name"
        autoComplete="name"
        required
        autoFocus
        errors={fieldErrors.name}
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 12 characters."
        errors={fieldErrors.password}
      />
      <Field
        name="confirmPassword"
        label="Password again"
        type="password"
        autoComplete="new-password"
        required
        errors={fieldErrors.confirmPassword}
      />
      <button type="submit" disabled={accept.isPending || accept.isSuccess}>
        {accept.isPending ? 'Creating your account…' : 'Create account and accept'}
      </button>
    </form>
  );
}
