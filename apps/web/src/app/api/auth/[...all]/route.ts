import { getAuthRuntime } from '~/server/auth/auth-runtime.ts';

export const dynamic = 'force-dynamic';

function handle(request: Request): Promise<Response> {
  return getAuthRuntime().auth.handler(request);
}

export { handle as GET, handle as POST };
