// xmppd muc list|show|create|set|destroy: the group chat rooms of the node running on this
// machine, through its admin listener as an administrator (XMPPD_ADMIN_JID and
// XMPPD_ADMIN_PASSWORD). Not through the database, as `xmppd user` goes: occupants and
// temporary rooms live only in the running service, and a destroyed room's occupants must be
// told, which only the room itself can do.
import type { RoomDetail, RoomSummary } from '../extension/room-admin.ts';
import { adminRequest, table } from './admin-client.ts';
import { UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const MUC_USAGE: [string, string][] = [
  ['muc list', 'the group chat rooms, with their occupants (admin: $XMPPD_ADMIN_JID, ...)'],
  ['muc show ROOM', 'one room: options, affiliations, occupants'],
  ['muc create ROOM OWNER [OPTION=VALUE...]', 'a persistent room owned by OWNER (roomname=..., publicroom=0, ...)'],
  ['muc set ROOM OPTION=VALUE...', 'change options of a room (occupants are told)'],
  ['muc destroy ROOM [reason=TEXT] [alternate=JID]', 'destroy it; occupants are told why and where to go'],
];

const MANY = Number.MAX_SAFE_INTEGER;

/** OPTION=VALUE arguments; the server checks the names and the values. */
function assignments(args: readonly string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`'${arg}' is not OPTION=VALUE; usage: xmppd ${usage}`);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
}

const path = (room: string): string => `/api/rooms/${encodeURIComponent(room)}`;

function printRoom(ctx: CommandContext, room: RoomDetail): void {
  ctx.out(`${room.jid}${room.title ? ` (${room.title})` : ''}: ${room.persistent ? 'persistent' : 'temporary'}, ${room.public ? 'public' : 'hidden'}${room.locked ? ', locked' : ''}, created ${room.created}`);
  if (room.subject) ctx.out(`subject: ${room.subject}`);
  ctx.out('options:');
  for (const [name, value] of Object.entries(room.options)) ctx.out(`  ${name}=${String(value)}`);
  ctx.out(room.affiliations.length ? 'affiliations:' : 'affiliations: none');
  for (const line of room.affiliations.length ? table([['JID', 'AFFILIATION', 'REASON'], ...room.affiliations.map((a) => [a.jid, a.affiliation, a.reason])]) : []) ctx.out(`  ${line}`);
  ctx.out(room.occupants.length ? 'occupants:' : 'occupants: none');
  for (const line of room.occupants.length ? table([['NICK', 'ROLE', 'AFFILIATION', 'JID'], ...room.occupants.map((o) => [o.nick, o.role, o.affiliation, o.jids.join(' ')])]) : []) ctx.out(`  ${line}`);
}

async function list(ctx: CommandContext): Promise<void> {
  const { rooms } = await adminRequest<{ service: string; rooms: RoomSummary[] }>(ctx, 'GET', '/api/rooms');
  if (!rooms.length) {
    ctx.say('no rooms');
    return;
  }
  for (const line of table([['ROOM', 'NAME', 'OCCUPANTS', 'KIND', 'LISTED', 'CREATED'], ...rooms.map((r) => [
    r.jid, r.title, String(r.occupants), r.persistent ? 'persistent' : 'temporary', r.public ? 'public' : 'hidden', r.created,
  ])])) ctx.out(line);
}

export async function mucCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args;
  switch (sub) {
    case 'list':
      expectArgs(rest, 'muc list', 0);
      return list(ctx);
    case 'show':
      expectArgs(rest, 'muc show ROOM', 1);
      return printRoom(ctx, await adminRequest<RoomDetail>(ctx, 'GET', path(rest[0]!)));
    case 'create': {
      const usage = 'muc create ROOM OWNER [OPTION=VALUE...]';
      expectArgs(rest, usage, 2, MANY);
      const [name, owner, ...options] = rest as [string, string, ...string[]];
      const body = { name, owner, options: assignments(options, usage) };
      const room = await ctx.change('muc create', { room: name }, () => adminRequest<RoomDetail>(ctx, 'POST', '/api/rooms', body), () => ({ owner }));
      ctx.say(`created ${room.jid}, owned by ${owner}`);
      return;
    }
    case 'set': {
      const usage = 'muc set ROOM OPTION=VALUE...';
      expectArgs(rest, usage, 2, MANY);
      const [name, ...options] = rest as [string, ...string[]];
      const body = { options: assignments(options, usage) };
      const room = await ctx.change('muc set', { room: name }, () => adminRequest<RoomDetail>(ctx, 'PATCH', path(name), body), () => ({ options: Object.keys(body.options).join(',') }));
      ctx.say(`changed ${room.jid}`);
      return;
    }
    case 'destroy': {
      const usage = 'muc destroy ROOM [reason=TEXT] [alternate=JID]';
      expectArgs(rest, usage, 1, 3);
      const [name, ...more] = rest as [string, ...string[]];
      const given = assignments(more, usage);
      const unknown = Object.keys(given).find((k) => k !== 'reason' && k !== 'alternate');
      if (unknown) throw new UsageError(`destroy takes reason= and alternate=, not ${unknown}=; usage: xmppd ${usage}`);
      const query = new URLSearchParams(given).toString();
      await ctx.change('muc destroy', { room: name }, () => adminRequest<void>(ctx, 'DELETE', `${path(name)}${query ? `?${query}` : ''}`), () => given);
      ctx.say(`destroyed ${name}`);
      return;
    }
    default:
      throw new UsageError(sub === undefined ? 'muc needs a subcommand: list, show, create, set or destroy' : `unknown muc subcommand '${sub}'`);
  }
}
