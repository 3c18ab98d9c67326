// How a command talks to the node running on this machine: over its listeners, found in the
// configuration, with errors that say what to check. The admin listener needs an
// administrator (admin.jids), named by XMPPD_ADMIN_JID and XMPPD_ADMIN_PASSWORD.
import type { ListenerConfig } from '../config/types.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';

const TIMEOUT_MS = 30_000;

/** Where this machine reaches a listener: a wildcard address is reached on loopback. */
export function urlOf(listener: ListenerConfig, name: string, path: string): string {
  if (!listener.enabled) throw new CommandError(`the ${name} listener is disabled in the configuration; the running node cannot be asked`);
  const host = ['0.0.0.0', '::', ''].includes(listener.host) ? '127.0.0.1' : listener.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}${path}`;
}

/** The JSON a URL answers (undefined for an empty answer); a non-2xx answer is a CommandError with the server's message. */
export async function requestJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new CommandError(`no server answers at ${url} (${err instanceof Error ? err.message : String(err)}): is xmppd running here?`);
  }
  const text = await res.text();
  if (!res.ok) {
    let reason = text;
    try {
      reason = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch { /* not JSON: the text itself */ }
    throw new CommandError(`${url} answered ${res.status}: ${reason}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A request to the admin API of this machine's node, as the administrator of the environment. */
export function adminRequest<T>(ctx: CommandContext, method: string, path: string, body?: unknown): Promise<T> {
  const jid = process.env.XMPPD_ADMIN_JID;
  const password = process.env.XMPPD_ADMIN_PASSWORD;
  if (!jid || !password) throw new UsageError('set XMPPD_ADMIN_JID and XMPPD_ADMIN_PASSWORD to an administrator (admin.jids) for the admin listener');
  const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${jid}:${password}`).toString('base64')}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return requestJson<T>(urlOf(ctx.config().admin, 'admin', path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Rows as aligned columns, the first row the heading. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
