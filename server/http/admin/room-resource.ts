// /api/rooms: the group chat rooms of conference.<domain>, as an operator manages them: list,
// look at one (options, affiliations, occupants), create a persistent one for an owner,
// change options and affiliations, destroy. Everything goes through the service's RoomAdmin
// (extension/room-admin.ts), which takes an owner's path in the room, so occupants hear of
// each change as XEP-0045 says.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../log.ts';
import { RoomAdminError, type AffiliationChange, type RoomAdmin, type RoomOptionValue } from '../../extension/room-admin.ts';
import { AdminError } from './admin-errors.ts';
import { errors, roomAffiliationSchema, roomDetailSchema, roomOptionsSchema, roomParams, roomSummarySchema } from './admin-schemas.ts';

const CODES = { 'not-found': 'ROOM_NOT_FOUND', exists: 'ROOM_EXISTS', invalid: 'ROOM_INVALID' } as const;

/** The service's refusals as the API's errors. */
async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RoomAdminError) throw new AdminError(CODES[err.kind], err.message);
    throw err;
  }
}

const jidText = { type: 'string', minLength: 1, maxLength: 3071 } as const;

export function roomResource(rooms: RoomAdmin, log: Logger) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/rooms', {
      schema: {
        response: {
          200: { type: 'object', required: ['service', 'rooms'], properties: { service: { type: 'string' }, rooms: { type: 'array', items: roomSummarySchema } } },
          ...errors(),
        },
      },
    }, async () => ({ service: rooms.service, rooms: await rooms.list() }));

    app.get<{ Params: { room: string } }>('/api/rooms/:room', {
      schema: { params: roomParams, response: { 200: roomDetailSchema, ...errors(400, 404) } },
    }, (req) => answer(() => rooms.get(req.params.room)));

    app.post<{ Body: { name: string; owner: string; options?: Record<string, RoomOptionValue> } }>('/api/rooms', {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'owner'],
          additionalProperties: false,
          properties: { name: jidText, owner: jidText, options: roomOptionsSchema },
        },
        response: { 201: roomDetailSchema, ...errors(400, 409) },
      },
    }, async (req, reply) => {
      const room = await answer(() => rooms.create(req.body.name, req.body.owner, req.body.options));
      log.info('room created through the admin API', { room: room.jid, owner: req.body.owner, by: req.admin!.jid });
      return reply.code(201).send(room);
    });

    app.patch<{ Params: { room: string }; Body: { options?: Record<string, RoomOptionValue>; affiliations?: AffiliationChange[] } }>('/api/rooms/:room', {
      schema: {
        params: roomParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { options: roomOptionsSchema, affiliations: { type: 'array', maxItems: 1000, items: roomAffiliationSchema } },
        },
        response: { 200: roomDetailSchema, ...errors(400, 404) },
      },
    }, async (req) => {
      const room = await answer(() => rooms.change(req.params.room, req.body));
      log.info('room changed through the admin API', { room: room.jid, options: Object.keys(req.body.options ?? {}).join(','), affiliations: req.body.affiliations?.length ?? 0, by: req.admin!.jid });
      return room;
    });

    app.delete<{ Params: { room: string }; Querystring: { reason?: string; alternate?: string } }>('/api/rooms/:room', {
      schema: {
        params: roomParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { reason: { type: 'string', maxLength: 1024 }, alternate: jidText },
        },
        response: { 204: { type: 'null' }, ...errors(400, 404) },
      },
    }, async (req, reply) => {
      await answer(() => rooms.destroy(req.params.room, req.query));
      log.info('room destroyed through the admin API', { room: req.params.room, by: req.admin!.jid });
      return reply.code(204).send();
    });
  };
}
