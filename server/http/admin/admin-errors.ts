// Every error the admin API answers with: a stable code (for the console and scripts), the
// HTTP status, and a default message. Responses look like fastify's own errors:
//   { "statusCode": 404, "code": "PLUGIN_NOT_FOUND", "error": "Not Found", "message": "..." }
import { STATUS_CODES } from 'node:http';

export const ADMIN_ERRORS = {
  AUTH_REQUIRED: { status: 401, message: 'authentication required: HTTP Basic with a JID and password, or the session cookie of POST /api/session' },
  AUTH_FAILED: { status: 401, message: 'wrong JID or password' },
  TOO_MANY_ATTEMPTS: { status: 429, message: 'too many failed logins from this address or for this account; try again later' },
  NOT_ADMIN: { status: 403, message: 'this account is not an administrator (the property admin.jids lists who is)' },
  CSRF_TOKEN_INVALID: { status: 403, message: 'missing or wrong X-CSRF-Token header (a console session must send the token it got at login)' },
  HOST_NOT_ALLOWED: { status: 421, message: 'the Host header names another server: open the admin listener by its address or as localhost, or list the name in admin.allowed-hosts' },
  BAD_REQUEST: { status: 400, message: 'the request is malformed' },
  VALIDATION_FAILED: { status: 400, message: 'the request does not match the route schema' },
  NOT_FOUND: { status: 404, message: 'no such route' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported Content-Type' },
  PLUGIN_NOT_FOUND: { status: 404, message: 'no such plugin' },
  PLUGIN_ARCHIVE_INVALID: { status: 400, message: 'the archive is not a usable plugin' },
  PLUGIN_CONFLICT: { status: 409, message: 'the plugin conflicts with an installed one' },
  PLUGIN_IS_FOLDER: { status: 409, message: 'the plugin is a folder, not an archive; it is not deleted through the API' },
  PLUGIN_LOAD_FAILED: { status: 422, message: 'the plugin was installed but failed to load' },
  PROPERTY_NOT_FOUND: { status: 404, message: 'no such property' },
  USER_NOT_FOUND: { status: 404, message: 'no such user' },
  USER_EXISTS: { status: 409, message: 'the user already exists' },
  USER_INVALID: { status: 400, message: 'not a user name or password this server accepts' },
  SESSION_NOT_FOUND: { status: 404, message: 'no such session online' },
  PROPERTY_INVALID: { status: 400, message: 'the value breaks the property definition' },
  ROOM_NOT_FOUND: { status: 404, message: 'no such group chat room' },
  ROOM_EXISTS: { status: 409, message: 'a group chat room of that name exists' },
  ROOM_INVALID: { status: 400, message: 'not a room name, option, affiliation or JID the group chat service accepts' },
  NOT_CLUSTERED: { status: 409, message: 'this node is not in a cluster (clustering is off, not joined yet, or no clustering plugin is loaded)' },
  INTERNAL: { status: 500, message: 'internal error (see the server log)' },
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export class AdminError extends Error {
  readonly statusCode: number;

  constructor(readonly code: AdminErrorCode, message?: string, /** Seconds, sent as Retry-After. */ readonly retryAfter?: number) {
    super(message ?? ADMIN_ERRORS[code].message);
    this.name = 'AdminError';
    this.statusCode = ADMIN_ERRORS[code].status;
  }
}

export interface ErrorBody {
  statusCode: number;
  code: AdminErrorCode;
  error: string;
  message: string;
}

export function errorBody(err: AdminError): ErrorBody {
  return { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message };
}

/** JSON schema of an error response, for the routes' response schemas. */
export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ADMIN_ERRORS) },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;
