// JSON schemas shared by the admin API's routes. Responses are serialized through them, so
// what the API returns is exactly what is written here, and the console can rely on it.
import { PROPERTY_TYPES } from '../../properties/types.ts';
import { errorSchema } from './admin-errors.ts';

export const pluginSchema = {
  type: 'object',
  required: ['name', 'file', 'version', 'kind', 'description', 'author', 'state', 'reason', 'since'],
  properties: {
    name: { type: 'string' },
    file: { type: 'string' },
    version: { type: ['string', 'null'] },
    kind: { type: ['string', 'null'], enum: ['feature', 'cluster', null] },
    description: { type: 'string' },
    author: { type: 'string' },
    state: { type: 'string', enum: ['loaded', 'failed', 'loading'] },
    reason: { type: ['string', 'null'] },
    since: { type: 'string', format: 'date-time' },
  },
} as const;

const scalar = { type: ['string', 'number', 'boolean'] } as const;

export const propertySchema = {
  type: 'object',
  required: ['name', 'defined', 'value', 'stored', 'isDefault', 'problem'],
  properties: {
    name: { type: 'string' },
    /** False for a value stored under a name nothing defines here (a plugin not loaded). */
    defined: { type: 'boolean' },
    value: scalar,
    stored: { type: ['string', 'null'] },
    isDefault: { type: 'boolean' },
    problem: { type: ['string', 'null'] },
    type: { type: 'string', enum: PROPERTY_TYPES },
    default: scalar,
    min: { type: 'integer' },
    max: { type: 'integer' },
    choices: { type: 'array', items: { type: 'string' } },
    description: { type: 'string' },
    live: { type: 'boolean' },
  },
} as const;

export const pageSchema = {
  type: 'object',
  required: ['plugin', 'id', 'title', 'url'],
  properties: { plugin: { type: 'string' }, id: { type: 'string' }, title: { type: 'string' }, url: { type: 'string' } },
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['jid', 'method', 'csrfToken'],
  properties: {
    jid: { type: 'string' },
    method: { type: 'string', enum: ['basic', 'session'] },
    /** For a console session: send it as X-CSRF-Token with every POST, PUT and DELETE. */
    csrfToken: { type: ['string', 'null'] },
  },
} as const;

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 191 } },
} as const;

/** The error responses every authenticated route may give, plus its own. */
export function errors(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries([401, 403, ...statuses].map((s) => [s, errorSchema]));
}

/** A group chat room in the list (extension/room-admin.ts, RoomSummary). */
const roomFields = {
  jid: { type: 'string' },
  name: { type: 'string' },
  /** The room's own name (muc#roomconfig_roomname), empty if it has none. */
  title: { type: 'string' },
  persistent: { type: 'boolean' },
  public: { type: 'boolean' },
  locked: { type: 'boolean' },
  created: { type: 'string', format: 'date-time' },
} as const;

export const roomSummarySchema = {
  type: 'object',
  required: [...Object.keys(roomFields), 'occupants'],
  properties: { ...roomFields, occupants: { type: 'integer' } },
} as const;

export const roomOptionsSchema = { type: 'object', additionalProperties: scalar } as const;

export const roomAffiliationSchema = {
  type: 'object',
  required: ['jid', 'affiliation'],
  additionalProperties: false,
  properties: {
    jid: { type: 'string', minLength: 1, maxLength: 3071 },
    affiliation: { type: 'string', enum: ['owner', 'admin', 'member', 'outcast', 'none'] },
    reason: { type: 'string', maxLength: 1024 },
  },
} as const;

/** One room in full (RoomDetail): its options, affiliations and occupants. */
export const roomDetailSchema = {
  type: 'object',
  required: [...Object.keys(roomFields), 'subject', 'options', 'affiliations', 'occupants'],
  properties: {
    ...roomFields,
    subject: { type: 'string' },
    options: roomOptionsSchema,
    affiliations: { type: 'array', items: roomAffiliationSchema },
    occupants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['nick', 'role', 'affiliation', 'bare', 'jids'],
        properties: {
          nick: { type: 'string' },
          role: { type: 'string' },
          affiliation: { type: 'string' },
          bare: { type: 'string' },
          jids: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

export const roomParams = {
  type: 'object',
  required: ['room'],
  properties: { room: { type: 'string', minLength: 1, maxLength: 3071 } },
} as const;
