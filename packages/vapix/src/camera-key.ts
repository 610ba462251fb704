const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'rtsp:': '554' };

/**
 * The key under which budgets and concurrency limits are shared. HTTP, HTTPS and RTSP on
 * their default ports are one camera; a non-default port (e.g. one simulated camera per port
 * on 127.0.0.1) is a camera of its own.
 */
export function cameraKeyOf(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const host = parsed.hostname.toLowerCase();
  const port =
    parsed.port !== '' && parsed.port !== DEFAULT_PORTS[parsed.protocol] ? parsed.port : '';
  return port === '' ? host : `${host}:${port}`;
}
