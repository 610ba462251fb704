'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { Field } from '~/app/_components/field.tsx';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';

export function ChangePasswordForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const change = useMutation(
    trpc.me.changePassword.mutationOptions({
      onSuccess: () => {
        router.replace('/sites');
        router.refresh();
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFieldErrors({});
    change.mutate({
      currentPassword: formText(form, 'currentPassword'),
      newPassword: formText(form, 'newPassword'),
      confirmPassword: formText(form, 'confirmPassword'),
    });
  }

  const formError =
    change.error && Object.keys(fieldErrors).length === 0 ? change.error.message : null;
  return (
    <form className="stack" onSubmit={onSubmit} noValidate>
      {formError ? (
        <p role="alert" className="form-error">
          {formError}
        </p>
      ) : null}
      <Field
        name="currentPassword"
        label="Current (one-time) password"
        type="password"
        autoComplete="current-password"
        errors={fieldErrors.currentPassword}
        autoFocus
      />
      <Field
        name="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
        errors={fieldErrors.newPassword}
        hint="At least 12 characters."
      />
      <Field
        name="confirmPassword"
        label="New password again"
        type="password"
        autoComplete="new-password"
        errors={fieldErrors.confirmPassword}
      />
      <button type="submit" disabled={change.isPending}>
        {change.isPending ? 'Saving…' : 'Save password'}
      </button>
    </form>
  );
}
