// The admin console's static files, built into dist/console/ by scripts/bundle-console.ts:
// index.html at / and the bundled script and style sheet under /console/. These routes are
// public: the page holds no data, and every API call it makes needs the login. Files are read
// at each request, so a console rebuilt while the node runs is served at once, and a console
// never built is a 503 with what to run, not a failed start.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PROJECT_ROOT } from '../../config/load-config.ts';
import { AdminError } from './admin-errors.ts';

export const CONSOLE_DIR = join(PROJECT_ROOT, 'dist', 'console');
export const CONSOLE_ASSET_PREFIX = '/console/';

/**
 * Code and styles from this listener's files only: no inline script or style, no other host,
 * and the console framed by nobody. It frames only this listener's own pages: the pages
 * plugins add (their admin routes), shown inside the console. The console's own requests go
 * to this listener alone.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** One file name, no folders, no dot files: nothing outside the console's folder is reachable. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.([a-z]+)$/;
/** esbuild's `[name]-[hash]` names (console-3F2A9XQZ.js): the content decides the name. */
const HASHED_NAME = /-[A-Z0-9]{8}\.[a-z]+$/;
/** A hashed file never changes; index.html, which names them, is checked at every load. */
const CACHE_HASHED = 'public, max-age=31536000, immutable';
const CACHE_UNHASHED = 'no-cache';

export const CONSOLE_NOT_BUILT = 'The admin console is not built. Run `npm run build` (or `npm install`) in the xmppd folder, then reload this page.\n';

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function secured(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer');
}

export function consoleAssets(dir: string = CONSOLE_DIR) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/', { config: { public: true } }, async (_req, reply) => {
      const page = await readOrNull(join(dir, 'index.html'));
      secured(reply).header('cache-control', CACHE_UNHASHED);
      if (!page) return reply.code(503).type('text/plain; charset=utf-8').send(CONSOLE_NOT_BUILT);
      return reply.type('text/html; charset=utf-8').send(page);
    });

    app.get<{ Params: { file: string } }>(`${CONSOLE_ASSET_PREFIX}:file`, {
      config: { public: true },
      schema: { params: { type: 'object', required: ['file'], properties: { file: { type: 'string', maxLength: 255 } } } },
    }, async (req, reply) => {
      const { file } = req.params;
      const type = CONTENT_TYPES[ASSET_NAME.exec(file)?.[1] ?? ''];
      const data = type ? await readOrNull(join(dir, file)) : null;
      if (!type || !data) throw new AdminError('NOT_FOUND', `the console has no file ${file}`);
      return secured(reply)
        .header('cache-control', HASHED_NAME.test(file) ? CACHE_HASHED : CACHE_UNHASHED)
        .type(type)
        .send(data);
    });
  };
}
