// /api/users: the accounts of the domain, for the console's user pages and for scripts:
// list (paged, searchable), create, change the password, delete. Deleting ends the account's
// sessions on every node and has modules and plugins remove their rows, as in-band removal
// and `xmppd user del` do (accounts/account-deletions.ts).
import type { FastifyInstance } from 'fastify';
import { SaslPrepError, deriveUserKeys, saslPrep } from '../../auth/scram-keys.ts';
import { JID } from '../../jid/jid.ts';
import type { ServerContext } from '../../server-context.ts';
import { AccountDeletionPendingError, UserExistsError } from '../../storage/types.ts';
import { AdminError } from './admin-errors.ts';
import { errors } from './admin-schemas.ts';

const userSchema = {
  type: 'object',
  required: ['username', 'jid', 'sessions'],
  properties: {
    username: { type: 'string' },
    jid: { type: 'string' },
    /** Sessions online now, on every node of the cluster. */
    sessions: { type: 'integer' },
  },
} as const;

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 1023 } },
} as const;

const passwordBody = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export function userResource(context: ServerContext) {
  const { storage, domain, core, sessions } = context;

  /** The prepared user name of `input`, a user name or a bare JID of this domain. */
  const prepared = (input: string): JID => {
    const jid = JID.tryParse(input.includes('@') ? input : `${input}@${domain}`);
    if (!jid || !jid.local || jid.resource || jid.domain !== domain) throw new AdminError('USER_INVALID', `'${input}' is not a user name or a bare JID of ${domain}`);
    return jid;
  };
  const keysFor = async (password: string) => {
    try {
      saslPrep(password);
    } catch (err) {
      if (err instanceof SaslPrepError) throw new AdminError('USER_INVALID', `the password cannot be used: ${err.message}`);
      throw err;
    }
    return deriveUserKeys(password, core.scramIterations.value);
  };
  const view = (username: string) => {
    const jid = JID.fromPrepared(username, domain).toString();
    return { username, jid, sessions: sessions.routingTable.getRoutes(jid).length };
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { search?: string; limit: number; offset: number } }>('/api/users', {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            search: { type: 'string', maxLength: 1023 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: {
          200: { type: 'object', required: ['users', 'total'], properties: { users: { type: 'array', items: userSchema }, total: { type: 'integer' } } },
          ...errors(400),
        },
      },
    }, async (req) => {
      const { usernames, total } = await storage.users.page({ search: req.query.search, limit: req.query.limit, offset: req.query.offset });
      return { users: usernames.map(view), total };
    });

    app.post<{ Body: { username: string; password: string } }>('/api/users', {
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 3071 }, password: passwordBody },
        },
        response: { 201: userSchema, ...errors(400, 409) },
      },
    }, async (req, reply) => {
      const jid = prepared(req.body.username);
      try {
        await storage.users.create(jid.local, await keysFor(req.body.password));
      } catch (err) {
        if (err instanceof UserExistsError) throw new AdminError('USER_EXISTS', `user ${jid.bareString()} already exists`);
        if (err instanceof AccountDeletionPendingError) {
          throw new AdminError('USER_EXISTS', `user ${jid.bareString()} was just deleted and the deletion is not finished yet; try again in a moment`);
        }
        throw err;
      }
      context.log.info('user created through the admin API', { user: jid.bareString(), by: req.admin!.jid });
      return reply.code(201).send(view(jid.local));
    });

    app.put<{ Params: { username: string }; Body: { password: string } }>('/api/users/:username/password', {
      schema: {
        params: usernameParams,
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: passwordBody } },
        response: { 204: { type: 'null' }, ...errors(400, 404) },
      },
    }, async (req, reply) => {
      const jid = prepared(req.params.username);
      if (!(await storage.users.setKeys(jid.local, await keysFor(req.body.password)))) throw new AdminError('USER_NOT_FOUND', `no user ${jid.bareString()}`);
      context.log.info('password changed through the admin API', { user: jid.bareString(), by: req.admin!.jid });
      return reply.code(204).send();
    });

    app.delete<{ Params: { username: string } }>('/api/users/:username', {
      schema: { params: usernameParams, response: { 204: { type: 'null' }, ...errors(400, 404) } },
    }, async (req, reply) => {
      const jid = prepared(req.params.username);
      // Its sessions end on every node, and modules and plugins remove their rows, right after.
      if (!(await context.accounts.delete(jid.local, 'admin-api'))) throw new AdminError('USER_NOT_FOUND', `no user ${jid.bareString()}`);
      context.log.info('user deleted through the admin API', { user: jid.bareString(), by: req.admin!.jid });
      return reply.code(204).send();
    });
  };
}
