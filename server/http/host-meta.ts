// XEP-0156 discovery of the web endpoints: /.well-known/host-meta (XRD, RFC 6415) and
// /.well-known/host-meta.json name the BOSH and WebSocket URLs, so that a web client given
// only the domain finds where to connect. Both are public documents that any web page may
// read (XEP-0156 asks for CORS), whatever xmpp.http.cors.origins allows for BOSH itself.
//
// The URLs are built below xmpp.http.public-url when it is set (behind a reverse proxy the
// listener cannot know what the world sees), else from the request: its Host header, and
// its scheme, which is this listener's unless a trusted proxy says otherwise in
// X-Forwarded-Proto. A client that writes its own Host is only told its own name back.
import type http from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../log.ts';
import type { Property } from '../properties/types.ts';
import { escapeAttr } from '../xml/element.ts';

const BOSH_REL = 'urn:xmpp:alt-connections:xbosh';
const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';
/** A Host header worth echoing: a name or an IPv4 address, or a bracketed IPv6 one, and a port. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export interface HostMetaOptions {
  publicUrl: Property<string>;
  /** Whether this listener serves TLS (https, wss). */
  secure: boolean;
  /** Whether a socket address is one of xmpp.http.trusted-proxies. */
  trustsProxy(address: string): boolean;
  log: Logger;
}

export interface WebEndpoints {
  bosh: string;
  websocket: string;
}

/** The public base URL the property names, or null (unset, or no http(s) URL: warned once per value). */
function configuredBase(publicUrl: Property<string>, log: Logger): () => URL | null {
  let seen: string | null = null;
  let base: URL | null = null;
  return () => {
    const text = publicUrl.value.trim();
    if (text !== seen) {
      seen = text;
      base = null;
      if (text !== '') {
        const url = URL.canParse(text) ? new URL(text) : null;
        if (url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !url.username) base = url;
        else log.warn(`ignoring ${publicUrl.definition.name}: not an http or https URL without query or fragment; host-meta uses each request's address`, { value: text });
      }
    }
    return base;
  };
}

/** The scheme and host of a request, as far as it can be trusted; null for a Host not worth echoing. */
export function requestBase(req: http.IncomingMessage, secure: boolean, trustsProxy: (address: string) => boolean): URL | null {
  const host = req.headers.host;
  if (!host || !HOST.test(host)) return null;
  let scheme = secure ? 'https' : 'http';
  const forwarded = req.headers['x-forwarded-proto'];
  if (forwarded !== undefined && trustsProxy(req.socket.remoteAddress ?? '')) {
    // The left-most value is what the client used with the first proxy.
    const first = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',')[0]!.trim().toLowerCase();
    if (first === 'http' || first === 'https') scheme = first;
  }
  return new URL(`${scheme}://${host}/`);
}

/** BOSH and WebSocket below a base URL (its path kept: a proxy may serve us under a prefix). */
export function endpointsBelow(base: URL): WebEndpoints {
  const path = base.pathname.replace(/\/+$/, '');
  const ws = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return { bosh: `${base.protocol}//${base.host}${path}/http-bind`, websocket: `${ws}//${base.host}${path}/ws` };
}

export function hostMetaXml(e: WebEndpoints): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n`
    + `  <Link rel="${BOSH_REL}" href="${escapeAttr(e.bosh)}"/>\n`
    + `  <Link rel="${WEBSOCKET_REL}" href="${escapeAttr(e.websocket)}"/>\n</XRD>\n`;
}

export function hostMetaJson(e: WebEndpoints): { links: { rel: string; href: string }[] } {
  return { links: [{ rel: BOSH_REL, href: e.bosh }, { rel: WEBSOCKET_REL, href: e.websocket }] };
}

export function hostMetaRoutes(options: HostMetaOptions) {
  const base = configuredBase(options.publicUrl, options.log);
  return async (app: FastifyInstance): Promise<void> => {
    const endpoints = (req: http.IncomingMessage, reply: FastifyReply): WebEndpoints | null => {
      // Any page may read these documents (XEP-0156 section 3).
      reply.header('access-control-allow-origin', '*');
      const found = base() ?? requestBase(req, options.secure, options.trustsProxy);
      if (found) return endpointsBelow(found);
      void reply.code(400).type('text/plain; charset=utf-8').send('a Host header naming this server is needed\n');
      return null;
    };
    app.get('/.well-known/host-meta', async (req, reply) => {
      const e = endpoints(req.raw, reply);
      if (e) return reply.type('application/xrd+xml; charset=utf-8').send(hostMetaXml(e));
      return reply;
    });
    app.get('/.well-known/host-meta.json', async (req, reply) => {
      const e = endpoints(req.raw, reply);
      if (e) return reply.type('application/json; charset=utf-8').send(JSON.stringify(hostMetaJson(e)));
      return reply;
    });
    // A preflight for either document (a page sending its own headers) is allowed too.
    const preflight = async (_req: unknown, reply: FastifyReply): Promise<void> => {
      await reply.code(204).header('access-control-allow-origin', '*').header('access-control-allow-methods', 'GET, OPTIONS')
        .header('access-control-allow-headers', '*').header('access-control-max-age', '86400').send();
    };
    app.options('/.well-known/host-meta', preflight);
    app.options('/.well-known/host-meta.json', preflight);
  };
}
