/**
 * Why a state-changing request is refused, or null when it may proceed. tRPC mutations travel
 * only as POST with a JSON body (a cross-site form can send neither a JSON content type nor
 * a custom method without a CORS preflight, which this server never grants), and the browser's
 * Origin, or failing that its Sec-Fetch-Site, must say the request comes from Custody itself.
 */
export function refuseCrossSiteMutation(
  request: Request,
  origins: readonly string[],
): { status: number; message: string } | null {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') {
    return null;
  }
  if (request.method !== 'POST') {
    return { status: 405, message: 'Only GET and POST are accepted.' };
  }
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    return { status: 415, message: 'Mutations must send application/json.' };
  }
  const origin = request.headers.get('origin');
  if (origin !== null) {
    return origins.includes(origin)
      ? null
      : { status: 403, message: 'Cross-site request refused.' };
  }
  const fetchSite = request.headers.get('sec-fetch-site');
  if (fetchSite === 'same-origin') return null;
  return { status: 403, message: 'Cross-site request refused: no Origin header.' };
}
