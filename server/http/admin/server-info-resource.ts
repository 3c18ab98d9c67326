// /api/server: what an operator checks first on a node it did not set up, in one answer: the
// versions, where it listens (the ports actually bound), which database and folders it uses,
// the TLS certificate clients get (subject, issuer, expiry), and its plugins.
// /api/log: the node's recent log lines (log-ring.ts), filtered by level.
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DatabaseConfig } from '../../config/types.ts';
import { recentLog, type LogLine } from '../../log-ring.ts';
import type { PluginHost } from '../../plugins/plugin-host.ts';
import type { ServerContext } from '../../server-context.ts';
import { errors } from './admin-schemas.ts';

/** What the node serves with, known once it runs. */
export interface ServerInfoSources {
  /** Addresses bound by the listeners, by name (c2s, c2sTls, http, https). */
  listeners(): Record<string, net.AddressInfo | undefined>;
  /** The certificate handshakes use now (PEM), and whether the node generated it. */
  certificate(): { pem: string; generated: boolean } | null;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A database as an operator may see it: never its password. */
function databaseView(db: DatabaseConfig): { type: string; target: string } {
  if (db.type === 'sqlite') return { type: 'SQLite', target: db.path };
  try {
    const url = new URL(db.url);
    return { type: 'MySQL/MariaDB', target: `${url.hostname}:${url.port || '3306'}${url.pathname}${url.username ? ` as ${decodeURIComponent(url.username)}` : ''}` };
  } catch {
    return { type: 'MySQL/MariaDB', target: '(unreadable URL)' };
  }
}

function certificateView(cert: { pem: string; generated: boolean }): Record<string, unknown> {
  const x = new X509Certificate(cert.pem);
  const notAfter = new Date(x.validTo);
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    names: x.subjectAltName ?? null,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
    // Signed by its own key (checkIssued also wants a CA key usage, which generated certificates lack).
    selfSigned: x.issuer === x.subject && x.verify(x.publicKey),
    generated: cert.generated,
    fingerprintSha256: x.fingerprint256,
  };
}

const logLineSchema = {
  type: 'object',
  required: ['time', 'level', 'component', 'text'],
  properties: { time: { type: 'string' }, level: { type: 'string' }, component: { type: 'string' }, text: { type: 'string' } },
} as const;

export function serverInfoResource(context: ServerContext, plugins: PluginHost, sources: ServerInfoSources) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/server', { schema: { response: errors() } }, async () => {
      const { config } = context;
      const bound = sources.listeners();
      const listener = (name: string, enabled: boolean, host: string, port: number) => ({
        name, enabled, host: bound[name]?.address ?? host, port: bound[name]?.port ?? port,
      });
      const cert = sources.certificate();
      return {
        version: context.version,
        node: config.nodeId,
        domain: context.domain,
        runtime: { node: process.version, platform: `${process.platform} ${process.arch}` },
        configFile: config.file,
        dataDir: config.dataDir,
        pluginsDir: config.pluginsDir,
        database: databaseView(config.database),
        listeners: [
          listener('c2s', config.c2s.enabled, config.c2s.host, config.c2s.port),
          listener('c2sTls', config.c2sTls.enabled, config.c2sTls.host, config.c2sTls.port),
          listener('http', config.http.enabled, config.http.host, config.http.port),
          listener('https', config.https.enabled, config.https.host, config.https.port),
          listener('admin', config.admin.enabled, config.admin.host, config.admin.port),
        ],
        certificate: cert ? certificateView(cert) : null,
        plugins: plugins.status().map((p) => ({ name: p.name, version: p.version, state: p.state })),
      };
    });

    app.get<{ Querystring: { level?: (typeof LEVELS)[number]; limit?: number; component?: string } }>('/api/log', {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            level: { type: 'string', enum: [...LEVELS] },
            limit: { type: 'integer', minimum: 1, maximum: 2000 },
            component: { type: 'string', minLength: 1, maxLength: 100 },
          },
        },
        response: { 200: { type: 'object', required: ['lines'], properties: { lines: { type: 'array', items: logLineSchema } } }, ...errors(400) },
      },
    }, async (req) => {
      const min = LEVELS.indexOf(req.query.level ?? 'debug');
      const component = req.query.component;
      const accept = (l: LogLine): boolean => LEVELS.indexOf(l.level) >= min && (component === undefined || l.component === component);
      return { lines: recentLog.recent(req.query.limit ?? 200, accept) };
    });
  };
}
