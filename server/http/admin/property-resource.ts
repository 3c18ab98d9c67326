// /api/properties: the system properties this node knows (the kernel's, and those of the
// plugins loaded here) and any value stored under another name. Changes are checked against
// the definition and stored in the shared database; other nodes pick them up by polling.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../../server-context.ts';
import { UnknownPropertyError, type PropertyInfo } from '../../properties/property-registry.ts';
import { PropertyValueError } from '../../properties/types.ts';
import { AdminError } from './admin-errors.ts';
import { errors, nameParams, propertySchema } from './admin-schemas.ts';

function view(info: PropertyInfo): Record<string, unknown> {
  const def = info.definition;
  return {
    name: info.name,
    defined: def !== null,
    value: info.value,
    stored: info.stored,
    isDefault: info.isDefault,
    problem: info.problem,
    ...(def ? {
      type: def.type,
      default: def.default,
      ...(def.min !== undefined ? { min: def.min } : {}),
      ...(def.max !== undefined ? { max: def.max } : {}),
      ...(def.choices ? { choices: [...def.choices] } : {}),
      description: def.description,
      live: def.live,
    } : {}),
  };
}

export function propertyResource(context: ServerContext) {
  const { properties } = context;
  const known = (name: string): PropertyInfo => {
    const info = properties.get(name);
    if (!info) throw new AdminError('PROPERTY_NOT_FOUND', `unknown property '${name}'`);
    return info;
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/properties', {
      schema: {
        response: { 200: { type: 'object', required: ['properties'], properties: { properties: { type: 'array', items: propertySchema } } }, ...errors() },
      },
    }, async () => ({ properties: properties.list().map(view) }));

    app.get<{ Params: { name: string } }>('/api/properties/:name', {
      schema: { params: nameParams, response: { 200: propertySchema, ...errors(404) } },
    }, async (req) => view(known(req.params.name)));

    app.put<{ Params: { name: string }; Body: { value: string | number | boolean; force?: boolean } }>('/api/properties/:name', {
      schema: {
        params: nameParams,
        body: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: {
            value: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
            /** Store a value under a name nothing defines here (a plugin not loaded on this node). */
            force: { type: 'boolean' },
          },
        },
        response: { 200: propertySchema, ...errors(400, 404) },
      },
    }, async (req) => {
      const { name } = req.params;
      try {
        // A name already stored is not a typo: no force needed (as for `xmppd property set`).
        const info = await properties.set(name, String(req.body.value), { force: req.body.force === true || properties.get(name) !== undefined });
        context.log.info('property set through the admin API', { name, value: info.stored, by: req.admin!.jid });
        return view(info);
      } catch (err) {
        if (err instanceof PropertyValueError) throw new AdminError('PROPERTY_INVALID', err.message);
        if (err instanceof UnknownPropertyError) {
          throw new AdminError('PROPERTY_NOT_FOUND', `unknown property '${name}' (send "force": true to store it anyway, e.g. for a plugin not loaded here)`);
        }
        if (err instanceof RangeError) throw new AdminError('PROPERTY_INVALID', err.message);
        throw err;
      }
    });

    app.delete<{ Params: { name: string } }>('/api/properties/:name', {
      schema: { params: nameParams, response: { 200: propertySchema, 204: { type: 'null' }, ...errors(404) } },
    }, async (req, reply) => {
      const { name } = req.params;
      known(name);
      await properties.unset(name);
      context.log.info('property unset through the admin API', { name, by: req.admin!.jid });
      const info = properties.get(name);
      // A stored-only value is gone entirely; a defined property is back to its default.
      if (!info) return reply.code(204).send();
      return view(info);
    });
  };
}
