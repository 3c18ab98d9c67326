// Which web origins may use BOSH and WebSocket from a browser (xmpp.http.cors.origins):
// "*" for any, or a comma-separated list. BOSH gets CORS headers; a WebSocket upgrade from
// an origin not listed is refused, since browsers apply no CORS to WebSocket.

/**
 * Parses the property value into a matcher. A request without an Origin header comes from
 * something other than a web page (a native client, a server-side library), which origin
 * rules neither concern nor could stop, so it is allowed.
 */
export function originPolicy(value: string): (origin: string | undefined) => boolean {
  const list = value.split(',').map((o) => o.trim().replace(/\/+$/, '').toLowerCase()).filter((o) => o !== '');
  if (list.includes('*')) return () => true;
  return (origin) => origin === undefined || list.includes(origin.toLowerCase());
}

/** Response headers for a request from `origin` (none when it is not allowed or absent). */
export function corsHeaders(value: string, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !originPolicy(value)(origin)) return {};
  if (value.split(',').some((o) => o.trim() === '*')) return { 'access-control-allow-origin': '*' };
  // A listed origin is echoed with credentials allowed, so that a load balancer's
  // stickiness cookie travels with cross-origin BOSH requests.
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  };
}

/** Extra headers answering a preflight (OPTIONS) request. */
export function preflightHeaders(requestedHeaders: string | undefined): Record<string, string> {
  return {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': requestedHeaders ?? 'Content-Type',
    'access-control-max-age': '86400',
  };
}
