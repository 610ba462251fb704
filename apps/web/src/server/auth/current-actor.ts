import { headers } from 'next/headers';
import { getRuntime } from '../runtime.ts';
import { loadActor, type Actor } from '../services/actor.ts';
import { getAuthRuntime } from './auth-runtime.ts';

/** The signed-in actor of the request a server component renders, or null. */
export async function currentActor(): Promise<Actor | null> {
  const session = await getAuthRuntime().auth.api.getSession({ headers: await headers() });
  if (!session) return null;
  return loadActor(getRuntime().database.db, session.user.id, session.session.id);
}
