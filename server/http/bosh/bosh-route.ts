// /http-bind: the HTTP face of the BOSH endpoint. Bodies are read as text whatever their
// Content-Type (XEP-0124 section 5 lets constrained clients send text/plain or form types),
// up to a limit that follows the stanza size property.
import type http from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Property } from '../../properties/types.ts';
import { corsHeaders, preflightHeaders } from '../cors.ts';
import type { BoshEndpoint } from './bosh-endpoint.ts';
import type { BoshReply } from './request-queue.ts';

export const BOSH_PATH = '/http-bind';
/** Openfire's clients are configured with a trailing slash: both are the endpoint. */
const BOSH_PATHS = [BOSH_PATH, `${BOSH_PATH}/`];

/** Whether a request URL is the BOSH endpoint's (its errors are answered as BOSH bodies). */
export function isBoshPath(url: string): boolean {
  return BOSH_PATHS.includes(url.split('?')[0]!);
}

class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** `remoteAddress` gives the client address of a request (the socket's, or a trusted proxy's forwarded one). */
export function boshRoutes(endpoint: BoshEndpoint, corsOrigins: Property<string>, remoteAddress: (req: http.IncomingMessage) => string) {
  return async (app: FastifyInstance): Promise<void> => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => {
      const limit = endpoint.maxBodyBytes();
      const chunks: Buffer[] = [];
      let size = 0;
      payload.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          payload.removeAllListeners('data');
          payload.resume();
          done(new BodyTooLargeError(limit), undefined);
          return;
        }
        chunks.push(chunk);
      });
      // Decoded by the endpoint, which refuses what is not UTF-8.
      payload.on('end', () => {
        if (size <= limit) done(null, Buffer.concat(chunks, size));
      });
      payload.on('error', (err) => done(err, undefined));
    });

    app.addHook('onRequest', async (req, reply) => {
      reply.headers(corsHeaders(corsOrigins.value, req.headers.origin));
    });

    for (const path of BOSH_PATHS) {
      app.options(path, async (req, reply) => {
        const requested = req.headers['access-control-request-headers'];
        reply.code(204).headers(preflightHeaders(typeof requested === 'string' ? requested : undefined)).send();
      });

      app.get(path, async (_req, reply) => {
        reply.type('text/plain; charset=utf-8').send(
          'This is an XMPP over BOSH endpoint (XEP-0124, XEP-0206). Clients POST <body/> elements here; see docs/operations.md.\n');
      });

      app.post(path, async (req, reply) => {
        const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const answer = await new Promise<BoshReply | null>((resolve) => {
          endpoint.handle(bytes, { remoteAddress: remoteAddress(req.raw), secure: isSecure(req) }, resolve);
        });
        if (answer === null) {
          reply.hijack();
          req.raw.socket.destroy();
          return;
        }
        reply.code(answer.status).header('content-type', answer.contentType).header('cache-control', 'no-store').send(answer.body);
      });
    }
  };
}

function isSecure(req: FastifyRequest): boolean {
  return req.protocol === 'https';
}
