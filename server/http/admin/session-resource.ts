// /api/session: console login and logout. Logging in checks the password like HTTP Basic
// does, then sets the session cookie and returns the CSRF token the console must echo in an
// X-CSRF-Token header with every change.
import type { FastifyInstance } from 'fastify';
import type { AdminAuthenticator } from './admin-auth.ts';
import { AdminError } from './admin-errors.ts';
import { errors, sessionSchema } from './admin-schemas.ts';
import { clearedSessionCookie, sessionCookie } from './admin-sessions.ts';

export function sessionResource(auth: AdminAuthenticator) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { jid: string; password: string } }>('/api/session', {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['jid', 'password'],
          additionalProperties: false,
          properties: { jid: { type: 'string', minLength: 1, maxLength: 3071 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: sessionSchema, ...errors(400) },
      },
    }, async (req, reply) => {
      const jid = await auth.checkCredentials(req.body.jid, req.body.password, req.ip);
      const session = auth.sessions.create(jid);
      reply.header('set-cookie', sessionCookie(session.id));
      return { jid, method: 'session', csrfToken: session.csrfToken };
    });

    app.get('/api/session', {
      schema: { response: { 200: sessionSchema, ...errors() } },
    }, async (req) => {
      const admin = req.admin!;
      return { jid: admin.jid, method: admin.method, csrfToken: admin.session?.csrfToken ?? null };
    });

    app.delete('/api/session', {
      schema: { response: { 204: { type: 'null' }, ...errors(400) } },
    }, async (req, reply) => {
      const session = req.admin!.session;
      if (!session) throw new AdminError('BAD_REQUEST', 'no console session to end: this request used HTTP Basic');
      auth.sessions.delete(session.id);
      reply.header('set-cookie', clearedSessionCookie()).code(204);
    });
  };
}
