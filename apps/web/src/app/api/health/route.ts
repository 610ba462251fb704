import { readHealth } from '~/server/health.ts';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const health = await readHealth();
  return Response.json(health, { status: health.ok ? 200 : 503 });
}
