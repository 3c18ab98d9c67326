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
