'use client';

import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useTRPC } from '~/trpc/react.tsx';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Opens the camera's recommissioning case and goes to it; an existing open case is linked. */
export function OpenCaseButton({ serial }: { serial: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const open = useMutation(
    trpc.cases.open.mutationOptions({
      onSuccess: ({ caseId }) => router.push(`/cases/${caseId}`),
    }),
  );
  const existing = open.error?.data?.code === 'CONFLICT' ? UUID.exec(open.error.message) : null;
  return (
    <div className="case-action">
      <button type="button" disabled={open.isPending} onClick={() => open.mutate({ serial })}>
        {open.isPending ? 'Opening…' : 'Open a recommissioning case'}
      </button>
      {open.error ? (
        <p role="alert" className="form-error">
          {existing ? (
            <>
              This camera already has an open case.{' '}
              <Link href={`/cases/${existing[0]}`}>Go to it</Link>
            </>
          ) : (
            open.error.message
          )}
        </p>
      ) : null}
    </div>
  );
}
