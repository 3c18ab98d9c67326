// /api/plugins: what the plugins folder holds and what became of each plugin; install by
// uploading an archive (checked completely before it is put in place), remove by name.
// Both change the folder and then wait for the host's pass over it, so the answer tells
// whether the plugin actually loaded.
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../server-context.ts';
import { installArchive, PluginFileError, removePlugin, type PluginFileErrorCode } from '../../plugins/plugin-files.ts';
import type { PluginHost } from '../../plugins/plugin-host.ts';
import { AdminError, type AdminErrorCode } from './admin-errors.ts';
import { errors, nameParams, pluginSchema } from './admin-schemas.ts';

/** Content types an archive upload may use. */
export const ARCHIVE_TYPES = ['application/gzip', 'application/x-gzip', 'application/x-compressed-tar', 'application/octet-stream'];

const tooLarge = (limit: number, what: string): AdminError =>
  new AdminError('PAYLOAD_TOO_LARGE', `the archive ${what}, above plugins.archive.max-bytes (${limit})`);

/** How long what a client still sends after the 413 is read and dropped before its connection closes. */
const LINGER_MS = 2_000;

/**
 * Reads an upload into memory while counting it, so that one sent without Content-Length
 * (chunked) is stopped at plugins.archive.max-bytes rather than read to its end. fastify
 * answers a parser's error with `Connection: close`, and node closes the socket as soon as
 * the answer is written; with the client's data still arriving, that resets the connection,
 * and the reset can reach the client before it has read the answer (RFC 9112 section 9.6).
 * So what still comes is dropped, and the socket lingers a moment before it closes.
 */
function readArchive(limit: () => number) {
  return (req: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: Buffer) => void): void => {
    const max = limit();
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      payload.removeListener('data', onData);
      payload.resume();
      chunks.length = 0;
      lingerAtClose(req.raw.socket);
      done(tooLarge(max, `went on beyond ${max} bytes`));
    };
    payload.on('data', onData);
    payload.on('end', () => {
      if (size <= max) done(null, Buffer.concat(chunks, size));
    });
    payload.on('error', (err) => {
      if (size <= max) done(err);
    });
  };
}

const FILE_ERRORS: Record<PluginFileErrorCode, AdminErrorCode> = {
  invalid: 'PLUGIN_ARCHIVE_INVALID',
  conflict: 'PLUGIN_CONFLICT',
  'not-found': 'PLUGIN_NOT_FOUND',
  'is-folder': 'PLUGIN_IS_FOLDER',
};

function fileError(err: unknown): never {
  if (err instanceof PluginFileError) throw new AdminError(FILE_ERRORS[err.code], err.message);
  throw err;
}

/** node ends a `Connection: close` response with socket.destroySoon(): end it, destroy it later. */
function lingerAtClose(socket: Socket): void {
  if (typeof socket.destroySoon !== 'function') return;
  socket.destroySoon = function (this: Socket) {
    this.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}

export function pluginResource(host: PluginHost, context: ServerContext) {
  const options = () => ({ serverVersion: context.version, maxArchiveBytes: context.core.pluginsMaxArchiveBytes.value });
  const find = (name: string) => host.status().find((p) => p.name === name || p.file === name);

  return async (app: FastifyInstance): Promise<void> => {
    app.addContentTypeParser(ARCHIVE_TYPES, readArchive(() => context.core.pluginsMaxArchiveBytes.value));

    app.get('/api/plugins', {
      schema: {
        response: { 200: { type: 'object', required: ['plugins'], properties: { plugins: { type: 'array', items: pluginSchema } } }, ...errors() },
      },
    }, async () => ({ plugins: host.status() }));

    app.get<{ Params: { name: string } }>('/api/plugins/:name', {
      schema: { params: nameParams, response: { 200: pluginSchema, ...errors(404) } },
    }, async (req) => {
      const plugin = find(req.params.name);
      if (!plugin) throw new AdminError('PLUGIN_NOT_FOUND', `no plugin named ${req.params.name}`);
      return plugin;
    });

    app.post<{ Body: Buffer }>('/api/plugins', {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: {
          201: { type: 'object', required: ['plugin', 'replaced'], properties: { plugin: pluginSchema, replaced: { type: ['string', 'null'] } } },
          ...errors(400, 409, 413, 415, 422),
        },
      },
      // Refused before the body is read when it announces more than the limit; one that
      // announces nothing is counted as it arrives (readArchive).
      onRequest: async (req) => {
        const length = Number(req.headers['content-length'] ?? 0);
        const limit = context.core.pluginsMaxArchiveBytes.value;
        if (length > limit) throw tooLarge(limit, `is ${length} bytes`);
      },
    }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) {
        throw new AdminError('UNSUPPORTED_MEDIA_TYPE', `send the archive with Content-Type: ${ARCHIVE_TYPES[0]} (not ${req.headers['content-type'] ?? 'none'})`);
      }
      if (req.body.length === 0) throw new AdminError('BAD_REQUEST', 'send the archive as the request body');
      const installed = await installArchive(host.pluginsDir, req.body, options()).catch(fileError);
      context.log.info('plugin installed through the admin API', { name: installed.manifest.name, version: installed.manifest.version, by: req.admin!.jid });
      await host.scan();
      const plugin = host.status().find((p) => p.file === installed.file);
      if (!plugin) throw new AdminError('INTERNAL', `${installed.file} vanished from the plugins folder while it was being loaded`);
      if (plugin.state !== 'loaded') {
        throw new AdminError('PLUGIN_LOAD_FAILED', `installed as ${installed.file}, but it did not load: ${plugin.reason ?? 'unknown reason'}`);
      }
      reply.code(201);
      return { plugin, replaced: installed.replaced };
    });

    app.delete<{ Params: { name: string } }>('/api/plugins/:name', {
      schema: { params: nameParams, response: { 204: { type: 'null' }, ...errors(404, 409) } },
    }, async (req, reply) => {
      const removed = await removePlugin(host.pluginsDir, req.params.name, options()).catch(fileError);
      context.log.info('plugin removed through the admin API', { name: req.params.name, files: removed.map((r) => r.source.file), by: req.admin!.jid });
      await host.scan();
      reply.code(204);
    });
  };
}
